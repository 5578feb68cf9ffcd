"""Authorization of the admin UI's own routes (OWASP API1/API5), as test_gateway_authorization.py
does for the JSON API: a teacher gets 403 on every /beheer page and form, and a coordinator of B
who posts A's licence and coupling ids changes nothing of A. Real services, real databases."""
import re

from sqlalchemy import select

from services.licensing import models as lm
from tests.gateway_fixtures import COORDINATOR, COORDINATOR_B, TEACHER, A, login
from tests.integration.test_gateway_authorization import active_couplings, school_a_couplings  # noqa: F401
from tests.integration.test_gateway_pupil_logins_ui import flash
from tests.unit.test_gateway_routes import routes

pytest_plugins = ["tests.gateway_fixtures"]


def beheer_routes(ids: dict) -> list[tuple[str, str]]:
    """Every /beheer route of the UI, its placeholders filled with the given ids."""
    found = []
    for method, url, _ in routes():
        if url.startswith("/beheer"):
            found.append((method, re.sub(r"<(?:\w+:)?(\w+)>", lambda m: ids[m.group(1)], url)))
    return found


def test_a_teacher_gets_403_on_every_beheer_page_and_form(demo_stack, school_a_couplings, web_session,  # noqa: F811
                                                        sessions):
    before = active_couplings(sessions)
    a = school_a_couplings
    ids = {"tab": "groepen", "staff_key": "LK2", "licence_id": a["seat_licence"]["id"],
           "coupling_id": a["seat_coupling"]["id"]}
    login(web_session, TEACHER, school_id=A)
    checked = beheer_routes(ids)
    assert len(checked) >= 25
    for method, path in checked:
        response = web_session.request(method, path, data={"pupil_key": "LL002", "group_key": "GRP4B"},
                                       allow_redirects=False)
        assert response.status_code == 403, (method, path, response.status_code)
    assert active_couplings(sessions) == before


def test_a_coordinator_of_b_cannot_use_as_licence_or_coupling_ids(demo_stack, school_a_couplings,  # noqa: F811
                                                                 web_session, sessions):
    before = active_couplings(sessions)
    a = school_a_couplings
    group_licence, seat_licence = a["group_licence"]["id"], a["seat_licence"]["id"]
    login(web_session, COORDINATOR_B)
    gone = "Deze licentie bestaat niet (meer)."
    assert web_session.get(f"/beheer/licenties/{group_licence}").status_code == 404
    assert flash(web_session.post(f"/beheer/licenties/{group_licence}/groepen", data={"group_key": "GRP4B"})) == gone
    assert flash(web_session.post(f"/beheer/licenties/{seat_licence}/leerlingen",
                                  data={"pupil_key": "LL002", "groep": "GRP4A"})) == gone
    assert flash(web_session.post(f"/beheer/licenties/{seat_licence}/ontkoppelen/{a['seat_coupling']['id']}")) == gone
    # B's own licence with A's coupling id: the coupling is not B's either
    b_licence = next(iter(demo_stack.licences["99YY00"].values()))["id"]
    answer = web_session.post(f"/beheer/licenties/{b_licence}/ontkoppelen/{a['group_coupling']['id']}")
    assert flash(answer) in (gone, "Deze koppeling bestaat niet (meer).")
    assert active_couplings(sessions) == before
    with sessions["licensing"]() as s:
        assert s.scalar(select(lm.Licence.seats_used).where(lm.Licence.id == seat_licence)) == 1

    login(web_session, COORDINATOR, school_id=A)  # A's own coordinator still sees them
    assert "4A" in web_session.get(f"/beheer/licenties/{group_licence}").text
