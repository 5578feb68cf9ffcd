"""The JSON API's behaviour beyond authorization: pagination, bad input that says where and changes
nothing, the seat limit as 409, Schoolgegevens reads, the licence cache's eviction on coupling."""
from sqlalchemy import func, select

from services.licensing import models as lm
from tests.gateway_fixtures import COORDINATOR, A, login

pytest_plugins = ["tests.gateway_fixtures"]


def couplings_count(sessions) -> int:
    with sessions["licensing"]() as s:
        return s.scalar(select(func.count()).select_from(lm.Coupling))


def test_licence_list_paginates_and_filters(demo_stack, web_session):
    login(web_session, COORDINATOR, school_id=A)
    everything = web_session.get(f"/api/v1/schools/{A}/licences").json()
    assert everything["page"] == {"page": 1, "per_page": 50, "total": 8, "pages": 1}
    first = web_session.get(f"/api/v1/schools/{A}/licences?per_page=3").json()
    third = web_session.get(f"/api/v1/schools/{A}/licences?per_page=3&page=3").json()
    assert first["page"]["pages"] == 3 and len(first["items"]) == 3 and len(third["items"]) == 2
    assert [x["id"] for x in first["items"] + third["items"]] == \
        [x["id"] for x in everything["items"][:3] + everything["items"][6:]]
    per_kind = web_session.get(f"/api/v1/schools/{A}/licences?kind=pupil").json()["items"]
    assert {x["kind"] for x in per_kind} == {"pupil"} and len(per_kind) == 2
    active = web_session.get(f"/api/v1/schools/{A}/licences?active_only=true").json()["items"]
    assert "0040190000000010" not in {x["contract_number"] for x in active}  # the Staal licence ended in 2020
    assert all(x["active"] for x in active)


def test_bad_queries_and_bodies_say_which_field_and_change_nothing(demo_stack, web_session, sessions):
    login(web_session, COORDINATOR, school_id=A)
    beyond = web_session.get(f"/api/v1/schools/{A}/licences?page=9")
    assert beyond.status_code == 400 and beyond.json()["error"]["fields"] == {"page": ["1..1"]}
    too_big = web_session.get(f"/api/v1/schools/{A}/licences?per_page=500&kind=family")
    assert too_big.status_code == 400 and set(too_big.json()["error"]["fields"]) == {"per_page", "kind"}
    unknown_param = web_session.get(f"/api/v1/schools/{A}/licences?sort=title")
    assert unknown_param.json()["error"]["fields"] == {"sort": ["Unknown field."]}
    licence = demo_stack.licence(A, "digibordsoftware groep 7")
    url = f"/api/v1/schools/{A}/licences/{licence['id']}/groups"
    for body, field in (({}, "group_key"), ({"group_key": ""}, "group_key"), ({"group_key": "GRP4A", "x": 1}, "x"),
                        ({"group_key": 7}, "group_key")):
        response = web_session.post(url, json=body)
        assert response.status_code == 400, body
        assert field in response.json()["error"]["fields"], (body, response.text)
    not_json = web_session.post(url, data="group_key=GRP4A", headers={"Content-Type": "application/json"})
    assert not_json.status_code == 400 and not_json.json()["error"]["fields"] == {"body": ["invalid JSON"]}
    wrong_kind = web_session.post(url.replace("/groups", "/pupils"), json={"pupil_key": "LL001"})
    assert wrong_kind.status_code == 400  # a group licence has no seats
    assert couplings_count(sessions) == 0


def test_the_last_seat_then_409_and_decoupling_frees_it(demo_stack, web_session, sessions):
    login(web_session, COORDINATOR, school_id=A)
    licence = demo_stack.licence(A, "wereld in getallen")  # 2 seats
    url = f"/api/v1/schools/{A}/licences/{licence['id']}"
    first = web_session.post(f"{url}/pupils", json={"pupil_key": "LL001"}).json()
    web_session.post(f"{url}/pupils", json={"pupil_key": "LL002"})
    listed = {x["id"]: x for x in web_session.get(f"/api/v1/schools/{A}/licences?kind=pupil").json()["items"]}
    assert listed[licence["id"]]["seats_available"] == 0  # the coupling evicted the cached list
    full = web_session.post(f"{url}/pupils", json={"pupil_key": "LL003"})
    assert full.status_code == 409
    assert full.json()["error"] == {"code": "conflict", "message": "no seats available",
                                    "fields": {"licence_id": ["no seats available"]}}
    detail = web_session.get(url).json()
    assert detail["seats_available"] == 0
    assert [(c["target_key"], c["target_name"], c["group_key"]) for c in detail["couplings"]] == \
        [("LL001", "Noor Jansen", "GRP4A"), ("LL002", "Daan Bakker", "GRP4A")]
    assert web_session.delete(f"{url}/couplings/{first['id']}").status_code == 204
    assert web_session.get(url).json()["seats_available"] == 1


def test_schoolgegevens_reads(demo_stack, web_session):
    login(web_session, COORDINATOR, school_id=A)
    school = web_session.get(f"/api/v1/schools/{A}").json()
    assert school["name"] == "Demoschool De Regenboog" and school["last_sync_at"]
    groups = web_session.get(f"/api/v1/schools/{A}/groups?per_page=2").json()
    assert groups["page"]["total"] == 7 and len(groups["items"]) == 2
    details = web_session.get(f"/api/v1/schools/{A}/groups/GRP4A").json()
    assert [t["display_name"] for t in details["teachers"]] == ["Julia van Bemmel"]
    assert len(details["pupils"]) == 6
    ict = web_session.get(f"/api/v1/schools/{A}/staff?ict_only=true").json()["items"]
    assert [x["display_name"] for x in ict] == ["Enrico Meeuwsen"]
    found = web_session.get(f"/api/v1/schools/{A}/pupils?search=berg").json()["items"]
    assert [x["display_name"] for x in found] == ["Esmee van den Berg"]
    assert "eckid" not in str(details)  # the pseudonym never leaves through the API
