"""Authorization on the server (OWASP API1/API5): another school's anything is 404, whatever ids are
tried; only ICT coordinators reach Beheer (a teacher gets 403). Real services, real databases."""
import uuid

import pytest
from sqlalchemy import select

from services.licensing import models as lm
from services.licensing.service import LicensingService
from tests.gateway_fixtures import COORDINATOR, COORDINATOR_B, TEACHER, TEACHER_B, A, B, login

pytest_plugins = ["tests.gateway_fixtures"]


def beheer_requests(school_id: str, licence_id: str, group_key: str, pupil_key: str, staff_key: str,
                    coupling_id: str, lvs_coupling_id: str) -> list[tuple[str, str, dict | None]]:
    """Every Beheer route of the API, with the given ids."""
    s = f"/api/v1/schools/{school_id}"
    return [
        ("GET", s, None),
        ("GET", f"{s}/groups", None),
        ("GET", f"{s}/groups/{group_key}", None),
        ("GET", f"{s}/staff", None),
        ("GET", f"{s}/staff?ict_only=true", None),
        ("GET", f"{s}/pupils?group_key={group_key}", None),
        ("POST", f"{s}/staff/{staff_key}/invitation", None),
        ("GET", f"{s}/licences", None),
        ("GET", f"{s}/licences/{licence_id}", None),
        ("POST", f"{s}/licences/{licence_id}/groups", {"group_key": group_key}),
        ("POST", f"{s}/licences/{licence_id}/pupils", {"pupil_key": pupil_key}),
        ("DELETE", f"{s}/licences/{licence_id}/couplings/{coupling_id}", None),
        ("GET", f"{s}/consent", None),
        ("PUT", f"{s}/consent", {"given": True}),
        ("GET", f"{s}/lvs-couplings", None),
        ("POST", f"{s}/lvs-couplings", {"lvs": "momento", "authorisation_key": "KEY-1234567890"}),
        ("PUT", f"{s}/lvs-couplings/{lvs_coupling_id}/key", {"authorisation_key": "KEY-0987654321"}),
        ("DELETE", f"{s}/lvs-couplings/{lvs_coupling_id}", None),
    ]


def active_couplings(sessions) -> list[tuple]:
    with sessions["licensing"]() as s:
        return sorted(s.execute(select(lm.Coupling.school_id, lm.Coupling.licence_id, lm.Coupling.target_key)
                                .where(lm.Coupling.ended_at.is_(None))).all())


@pytest.fixture
def school_a_couplings(demo_stack, web_session):
    """School A with a group coupling and a seat coupling, made by A's coordinator (then logged out)."""
    login(web_session, COORDINATOR, school_id=A)
    group_licence = demo_stack.licence(A, "digibordsoftware groep 4")
    seat_licence = demo_stack.licence(A, "wereld in getallen")
    group_coupling = web_session.post(f"/api/v1/schools/{A}/licences/{group_licence['id']}/groups",
                                      json={"group_key": "GRP4A"}).json()
    seat_coupling = web_session.post(f"/api/v1/schools/{A}/licences/{seat_licence['id']}/pupils",
                                     json={"pupil_key": "LL001"}).json()
    assert web_session.delete("/api/v1/session").status_code == 204
    web_session.http.headers.pop("X-CSRF-Token")
    return {"group_licence": group_licence, "seat_licence": seat_licence,
            "group_coupling": group_coupling, "seat_coupling": seat_coupling}


def test_a_coordinator_of_b_gets_404_for_everything_of_a_whatever_ids(demo_stack, school_a_couplings,
                                                                        web_session, sessions):
    before = active_couplings(sessions)
    assert len(before) == 2
    login(web_session, COORDINATOR_B, school_id=B)
    a = school_a_couplings
    b_licence = demo_stack.licence(B, "digibordsoftware groep 4")
    attempts = []
    # A's real ids under A's URL
    attempts += beheer_requests(A, a["group_licence"]["id"], "GRP4A", "LL001", "LK1",
                                a["group_coupling"]["id"], str(uuid.uuid4()))
    # A's ids swapped into B's URL (A's licence, A's coupling under B's licence, A's group and pupil keys)
    attempts += [(m, p, body) for m, p, body in beheer_requests(
        B, a["group_licence"]["id"], "GRP4A", "LL001", "LK1", a["group_coupling"]["id"], str(uuid.uuid4()))
        if "/licences/" in p or "/groups/" in p or "/staff/" in p]
    attempts += [("DELETE", f"/api/v1/schools/{B}/licences/{b_licence['id']}/couplings/{a['group_coupling']['id']}",
                  None),
                 ("DELETE", f"/api/v1/schools/{B}/licences/{a['seat_licence']['id']}/couplings/"
                            f"{a['seat_coupling']['id']}", None),
                 ("POST", f"/api/v1/schools/{B}/licences/{b_licence['id']}/groups", {"group_key": "GRP4A"}),
                 ("POST", f"/api/v1/schools/{B}/licences/{a['seat_licence']['id']}/pupils", {"pupil_key": "Z001"})]
    # guessed ids: other schools, random and sequential-looking ids
    for school in ("99ZZ01", "00AA00", "12XY99"):
        attempts += beheer_requests(school, str(uuid.uuid4()), "1", "1", "1", str(uuid.uuid4()), "1")
    attempts += [("GET", f"/api/v1/schools/{B}/licences/{guess}", None)
                 for guess in ("1", "0", str(uuid.UUID(int=1)), str(uuid.uuid4()), "..%2F..%2F99ZZ00")]
    for method, path, body in attempts:
        response = web_session.request(method, path, json=body)
        assert response.status_code == 404, (method, path, response.status_code, response.text)
        assert response.headers["Content-Type"] == "application/json", (method, path, response.text)
        assert response.json()["error"]["code"] == "not_found"
        for secret in ("Regenboog", "Jansen", "Bemmel", a["group_licence"]["title"], a["group_licence"]["isbn"]):
            assert secret not in response.text  # nothing of A leaks
    assert active_couplings(sessions) == before  # and nothing changed


def test_a_teacher_gets_403_on_every_beheer_route_and_404_for_another_school(demo_stack, school_a_couplings,
                                                                             web_session, sessions):
    before = active_couplings(sessions)
    info = login(web_session, TEACHER)
    assert info["school_id"] == A and info["is_ict_coordinator"] is False
    a = school_a_couplings
    for method, path, body in beheer_requests(A, a["group_licence"]["id"], "GRP4A", "LL002", "LK2",
                                              a["group_coupling"]["id"], str(uuid.uuid4())):
        response = web_session.request(method, path, json=body)
        assert response.status_code == 403, (method, path, response.status_code, response.text)
        assert response.json()["error"]["code"] == "forbidden"
    for method, path, body in beheer_requests(B, str(uuid.uuid4()), "G3", "Z001", "Z-LK1", str(uuid.uuid4()), "x"):
        assert web_session.request(method, path, json=body).status_code == 404, (method, path)
    assert web_session.get(f"/api/v1/schools/{B}/start").status_code == 404
    assert active_couplings(sessions) == before


def test_a_teacher_of_b_cannot_reach_a_and_is_refused_beheer_in_b(demo_stack, web_session):
    login(web_session, TEACHER_B)
    assert web_session.get(f"/api/v1/schools/{A}/licences").status_code == 404
    assert web_session.get(f"/api/v1/schools/{B}/licences").status_code == 403
    assert web_session.put("/api/v1/session/school", json={"school_id": A}).status_code == 404


@pytest.mark.skipif(not hasattr(LicensingService, "teacher_start_page"),
                    reason="licensing.teacher_start_page arrives with the licensing branch")
def test_the_start_page_shows_a_teacher_the_licences_of_their_groups(demo_stack, school_a_couplings, web_session):
    login(web_session, TEACHER)
    page = web_session.get(f"/api/v1/schools/{A}/start")
    assert page.status_code == 200, page.text
    titles = [lic["title"] for m in page.json()["methods"] for t in m["product_types"] for lic in t["licences"]]
    assert school_a_couplings["group_licence"]["title"] in titles  # coupled to 4A, which she teaches


def test_the_roster_decides_the_role_again_after_the_memberships_ttl(demo_stack, web_session, sessions,
                                                                     monkeypatch):
    """A coordinator whose ICT role the roster no longer lists loses Beheer without logging out."""
    from services.gateway import models as gm
    from services.roster import models as ro

    monkeypatch.setenv("SESSION_CACHE_SECONDS", "0")  # this test is about the memberships TTL alone
    login(web_session, COORDINATOR_B)
    assert web_session.get(f"/api/v1/schools/{B}/licences").status_code == 200
    with sessions["roster"]() as s, s.begin():
        staff = s.get(ro.Staff, (B, "Z-LK3"))
        staff.roles, staff.ict_coordinator = ["LRK"], False  # as a roster sync writes it
    assert web_session.get(f"/api/v1/schools/{B}/licences").status_code == 200  # cached until the TTL
    with sessions["gateway"]() as s, s.begin():  # let the TTL pass
        for ws in s.scalars(select(gm.WebSession)):
            ws.memberships_at = ws.memberships_at.replace(year=2000)
    assert web_session.get(f"/api/v1/schools/{B}/licences").status_code == 403
