"""The pupil-login routes of the JSON API (seed §4) against the real roster service: what they answer,
what they change, and that they stay inside the chosen school."""
import io

from pypdf import PdfReader

from tests.gateway_fixtures import COORDINATOR, COORDINATOR_B, TEACHER, A, B, login

pytest_plugins = ["tests.gateway_fixtures"]
API = f"/api/v1/schools/{A}"


def test_group_logins_method_and_login_sheet(demo_stack, web_session):
    login(web_session, COORDINATOR, school_id=A)
    logins = web_session.get(f"{API}/groups/GRP4A/logins")
    assert logins.status_code == 200, logins.text
    body = logins.json()
    assert body["group_name"] == "4A" and body["login_method"] == "pincode"
    assert {p["key"] for p in body["pupils"]} >= {"LL001", "LL002"}
    assert all(len(p["pincode"]) == 4 and p["pincode"].isdigit() for p in body["pupils"])

    changed = web_session.put(f"{API}/groups/GRP4A/login-method", json={"method": "pictures"})
    assert changed.status_code == 200 and changed.json()["login_method"] == "pictures"
    assert {p["login_method"] for p in changed.json()["pupils"]} == {"pictures"}
    wrong = web_session.put(f"{API}/groups/GRP4A/login-method", json={"method": "vingerafdruk"})
    assert wrong.status_code == 400 and "method" in wrong.json()["error"]["fields"]

    sheet = web_session.get(f"{API}/groups/GRP4A/login-sheet")
    assert sheet.status_code == 200 and sheet.headers["Content-Type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(sheet.content)).pages)
    assert all(p["display_name"] in text for p in body["pupils"])


def test_pincode_pictures_and_home_emails_of_one_pupil(demo_stack, web_session):
    login(web_session, COORDINATOR, school_id=A)
    before = web_session.get(f"{API}/pupils/LL001/login").json()
    bad = web_session.put(f"{API}/pupils/LL001/pincode", json={"pincode": "12a4"})
    assert bad.status_code == 400 and bad.json()["error"]["fields"] == {"pincode": ["must be exactly 4 digits (0-9)"]}
    assert web_session.get(f"{API}/pupils/LL001/login").json()["pincode"] == before["pincode"]
    new = "1357" if before["pincode"] != "1357" else "2468"
    assert web_session.put(f"{API}/pupils/LL001/pincode", json={"pincode": new}).json()["pincode"] == new

    names = [p["name"] for p in web_session.get("/api/v1/picture-set").json()["pictures"]]
    chosen = names[:3]
    assert web_session.put(f"{API}/pupils/LL001/pictures", json={"pictures": chosen}).json()["pictures"] == chosen
    assert web_session.put(f"{API}/pupils/LL001/pictures", json={"pictures": chosen[:2]}).status_code == 400

    first = web_session.post(f"{API}/pupils/LL001/home-emails", json={"email": "thuis1@example.org"})
    assert first.status_code == 201 and first.json()["home_emails"] == ["thuis1@example.org"]
    web_session.post(f"{API}/pupils/LL001/home-emails", json={"email": "thuis2@example.org"})
    third = web_session.post(f"{API}/pupils/LL001/home-emails", json={"email": "thuis3@example.org"})
    assert third.status_code == 409
    removed = web_session.delete(f"{API}/pupils/LL001/home-emails/1")
    assert removed.status_code == 200 and removed.json()["home_emails"] == ["thuis2@example.org"]
    assert web_session.delete(f"{API}/pupils/LL001/home-emails/2").status_code == 404


def test_pupil_logins_stay_inside_the_chosen_school(demo_stack, web_session, web_config_port):
    from tests.conftest import _Session

    login(web_session, COORDINATOR_B)  # coordinator of B only
    for path in ("/groups/GRP4A/logins", "/groups/GRP4A/login-sheet", "/pupils/LL001/login"):
        assert web_session.get(API + path).status_code == 404, path  # A is not theirs
    assert web_session.put(f"{API}/pupils/LL001/pincode", json={"pincode": "1111"}).status_code == 404
    # B's own URL with A's keys: the roster does not know them in B
    assert web_session.get(f"/api/v1/schools/{B}/groups/GRP4A/logins").status_code == 404
    assert web_session.get(f"/api/v1/schools/{B}/pupils/LL001/login").status_code == 404

    teacher = _Session(f"http://127.0.0.1:{web_config_port}")
    login(teacher, TEACHER, school_id=A)
    assert teacher.get(f"{API}/groups/GRP4A/logins").status_code == 403
    assert teacher.put(f"{API}/pupils/LL001/pincode", json={"pincode": "1111"}).status_code == 403
