"""Logging in, sessions, CSRF, Selecteer school, logout: the gateway on real RabbitMQ and PostgreSQL."""
from sqlalchemy import func, select

from services.gateway import models as gm
from tests.gateway_fixtures import COORDINATOR, PASSWORD, TEACHER, A, B, login

pytest_plugins = ["tests.gateway_fixtures"]


def test_login_sets_an_httponly_samesite_cookie_and_one_school_is_chosen_at_once(demo_stack, web_session):
    response = web_session.post("/api/v1/session", json={"email": TEACHER.upper(), "password": PASSWORD})
    assert response.status_code == 201, response.text
    cookie = response.headers["Set-Cookie"]
    assert "koppel_session=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    info = response.json()
    assert info["email"] == TEACHER and info["school_id"] == A and info["is_ict_coordinator"] is False
    assert [s["school_id"] for s in info["schools"]] == [A]
    assert "staff_key" not in info["schools"][0]
    assert response.headers["Cache-Control"] == "no-store"
    assert web_session.get("/api/v1/session").json()["email"] == TEACHER


def test_wrong_password_and_unknown_email_get_the_same_401(demo_stack, web_session, sessions):
    wrong = web_session.post("/api/v1/session", json={"email": TEACHER, "password": "not-the-password"})
    unknown = web_session.post("/api/v1/session", json={"email": "nobody@regenboog.example", "password": "x" * 12})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["error"]["fields"] == {"password": ["Onjuist e-mailadres of wachtwoord."]}
    assert "Set-Cookie" not in wrong.headers
    with sessions["gateway"]() as s:
        assert s.scalar(select(func.count()).select_from(gm.WebSession)) == 0


def test_login_is_rate_limited_per_email_even_with_the_right_password(demo_stack, web_session):
    for _ in range(5):
        failed = web_session.post("/api/v1/session", json={"email": TEACHER, "password": "wrong-wrong"})
        assert failed.status_code == 401
    blocked = web_session.post("/api/v1/session", json={"email": TEACHER, "password": PASSWORD})
    assert blocked.status_code == 429
    assert blocked.json()["error"]["code"] == "too_many_requests"
    assert "Te veel pogingen" in blocked.json()["error"]["fields"]["email"][0]
    # another account from the same client is not blocked by this e-mail's failures
    assert web_session.post("/api/v1/session", json={"email": COORDINATOR, "password": PASSWORD}).status_code == 201


def test_bad_login_input_says_which_field(demo_stack, web_session):
    response = web_session.post("/api/v1/session", json={"email": "not-an-email", "password": ""})
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"email", "password"}
    form = web_session.post("/api/v1/session", data={"email": TEACHER, "password": PASSWORD})
    assert form.status_code == 400  # a cross-site HTML form cannot post JSON
    assert form.json()["error"]["fields"] == {"body": ["expected application/json"]}


def test_state_changing_requests_need_the_csrf_token(demo_stack, web_session, sessions):
    info = login(web_session, COORDINATOR, school_id=A)
    licence = demo_stack.licence(A, "digibordsoftware groep 3")
    url = f"/api/v1/schools/{A}/licences/{licence['id']}/groups"
    del web_session.http.headers["X-CSRF-Token"]
    missing = web_session.post(url, json={"group_key": "GRP4A"})
    wrong = web_session.post(url, json={"group_key": "GRP4A"}, headers={"X-CSRF-Token": "guessed"})
    assert missing.status_code == wrong.status_code == 403
    assert missing.json()["error"]["fields"] == {"csrf_token": ["missing or wrong"]}
    detail = web_session.get(f"/api/v1/schools/{A}/licences/{licence['id']}").json()
    assert detail["couplings"] == []  # nothing happened
    ok = web_session.post(url, json={"group_key": "GRP4A"}, headers={"X-CSRF-Token": info["csrf_token"]})
    assert ok.status_code == 201, ok.text
    assert ok.json()["target_key"] == "GRP4A"


def test_selecteer_school_is_needed_with_two_schools_and_can_be_changed(demo_stack, web_session):
    info = login(web_session, COORDINATOR)
    assert info["school_id"] is None and {s["school_id"] for s in info["schools"]} == {A, B}
    assert web_session.get(f"/api/v1/schools/{A}/licences").status_code == 404  # no school chosen yet
    assert web_session.put("/api/v1/session/school", json={"school_id": A}).json()["school_id"] == A
    assert web_session.get(f"/api/v1/schools/{A}/licences").status_code == 200
    assert web_session.get(f"/api/v1/schools/{B}/licences").status_code == 404  # not the chosen school
    assert web_session.put("/api/v1/session/school", json={"school_id": B}).json()["school_id"] == B
    assert web_session.get(f"/api/v1/schools/{B}/licences").status_code == 200
    assert web_session.get(f"/api/v1/schools/{A}/licences").status_code == 404
    other = web_session.put("/api/v1/session/school", json={"school_id": "12AB34"})
    assert other.status_code == 404
    assert web_session.get("/api/v1/session").json()["school_id"] == B  # unchanged


def test_logout_ends_the_session_on_the_server(demo_stack, web_session, sessions):
    login(web_session, TEACHER)
    cookie = web_session.http.cookies.get("koppel_session")
    assert web_session.get("/api/v1/session").status_code == 200  # now in the gateway's session cache too
    assert web_session.delete("/api/v1/session").status_code == 204
    assert web_session.get("/api/v1/session").status_code == 401
    web_session.http.cookies.set("koppel_session", cookie)  # replaying the old cookie does not help
    assert web_session.get("/api/v1/session").status_code == 401
    with sessions["gateway"]() as s:
        assert s.scalar(select(func.count()).select_from(gm.WebSession)) == 0


def test_without_a_session_every_api_route_is_401(demo_stack, web_session):
    for method, path in [("GET", "/api/v1/session"), ("GET", f"/api/v1/schools/{A}/licences"),
                         ("GET", f"/api/v1/schools/{A}"), ("DELETE", "/api/v1/session"),
                         ("PUT", "/api/v1/session/school")]:
        response = web_session.request(method, path, json={})
        assert response.status_code == 401, (method, path, response.text)
        assert response.json()["error"]["code"] == "unauthorized"
