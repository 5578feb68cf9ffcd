"""Resultaatkoppelingen in the admin UI (seed §5) against the real results service: consent on and
off, a coupling added, its rejected key shown in Dutch, the key changed, the coupling removed; and
none of it reachable from another school or for a teacher."""
from sqlalchemy import select, update

from services.results import models as rm
from tests.gateway_fixtures import COORDINATOR, COORDINATOR_B, TEACHER, A, login
from tests.integration.test_gateway_pupil_logins_ui import flash

pytest_plugins = ["tests.gateway_fixtures"]
PAGE = "/beheer/resultaatkoppelingen"
KEY = "sleutel-van-momento-1234567"


def coupling_row(sessions) -> rm.LvsCoupling:
    with sessions["results"]() as s:
        return s.scalars(select(rm.LvsCoupling).where(rm.LvsCoupling.school_id == A)).one()


def test_consent_coupling_rejected_key_new_key_and_removal(demo_stack, web_session, sessions, monkeypatch):
    login(web_session, COORDINATOR, school_id=A)
    assert "De school heeft geen toestemming gegeven" in web_session.get(PAGE).text

    given = web_session.post(f"{PAGE}/toestemming", data={"given": "1"})
    assert flash(given) == "Toestemming is gegeven." and "De school heeft toestemming gegeven" in given.text

    added = web_session.post(f"{PAGE}/toevoegen", data={"lvs": "other", "endpoint_url": "https://lvs.example/uwlr",
                                                        "authorisation_key": KEY})
    assert flash(added) == "De koppeling is opgeslagen.", added.text
    assert "Actief" in added.text and KEY not in added.text and KEY[-4:] in added.text  # only a hint
    coupling = coupling_row(sessions)

    with sessions["results"]() as s, s.begin():  # what the exporter records when the LVS refuses the key
        s.execute(update(rm.LvsCoupling).where(rm.LvsCoupling.id == coupling.id).values(
            status="key_rejected", last_error="LVS fault Client.AutorisatieOngeldig: Autorisatie is ongeldig"))
    page = web_session.get(PAGE).text
    assert "Autorisatiesleutel geweigerd door het leerlingvolgsysteem. Voer de nieuwe autorisatiesleutel in." in page
    assert "Melding van het leerlingvolgsysteem (voor de helpdesk): LVS fault Client.AutorisatieOngeldig" in page

    empty = web_session.post(f"{PAGE}/{coupling.id}/sleutel", data={"authorisation_key": "  "})
    assert flash(empty) == "Vul de nieuwe autorisatiesleutel in."
    changed = web_session.post(f"{PAGE}/{coupling.id}/sleutel", data={"authorisation_key": "nieuwe-sleutel-9876"})
    assert flash(changed) == "De autorisatiesleutel is gewijzigd."
    after = coupling_row(sessions)
    assert after.status == "active" and after.last_error is None and after.key_version == coupling.key_version + 1
    assert "Autorisatiesleutel geweigerd" not in changed.text and "9876" in changed.text

    withdrawn = web_session.post(f"{PAGE}/toestemming", data={})
    assert flash(withdrawn) == "Toestemming is ingetrokken: er worden geen resultaten verstuurd."
    assert "De school heeft geen toestemming gegeven" in withdrawn.text

    removed = web_session.post(f"{PAGE}/{coupling.id}/verwijderen")
    assert flash(removed) == "De koppeling is verwijderd."
    assert "Nog geen koppeling met een leerlingvolgsysteem." in removed.text
    assert coupling_row(sessions).removed_at is not None


def test_another_school_and_a_teacher_cannot_touch_the_coupling(demo_stack, web_session, sessions, web_config_port):
    from tests.conftest import _Session

    login(web_session, COORDINATOR, school_id=A)
    web_session.post(f"{PAGE}/toevoegen", data={"lvs": "other", "endpoint_url": "https://lvs.example/uwlr",
                                                "authorisation_key": KEY})
    coupling = coupling_row(sessions)

    other = _Session(f"http://127.0.0.1:{web_config_port}")
    login(other, COORDINATOR_B)  # coordinator of B only, with A's coupling id
    assert "lvs.example" not in other.get(PAGE).text
    gone = "Deze resultaatkoppeling bestaat niet (meer)."  # the same as for an id that never existed
    assert flash(other.post(f"{PAGE}/{coupling.id}/sleutel", data={"authorisation_key": "overgenomen"})) == gone
    assert flash(other.post(f"{PAGE}/{coupling.id}/verwijderen")) == gone
    assert flash(other.post(f"{PAGE}/00000000-0000-4000-8000-000000000000/verwijderen")) == gone
    untouched = coupling_row(sessions)
    assert untouched.removed_at is None and untouched.key_version == coupling.key_version

    teacher = _Session(f"http://127.0.0.1:{web_config_port}")
    login(teacher, TEACHER, school_id=A)
    assert teacher.get(PAGE).status_code == 403
    assert teacher.post(f"{PAGE}/{coupling.id}/verwijderen").status_code == 403
    assert coupling_row(sessions).removed_at is None
