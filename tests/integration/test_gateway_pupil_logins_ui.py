"""The pupil-login screens of the admin UI (seed §4) over HTTP: the gateway's pages and forms against
the real roster service (RabbitMQ, PostgreSQL), what they show and what they change.
The same screens in a real browser: tests/e2e/test_gateway_browser.py."""

import email
import email.policy
import html
import io
import os
import re
from pathlib import Path

from pypdf import PdfReader

from tests.conftest import _Session
from tests.gateway_fixtures import COORDINATOR, COORDINATOR_B, TEACHER, A, login

pytest_plugins = ["tests.gateway_fixtures"]
GROUP_PAGE = "/beheer/schoolgegevens/groepen/wachtwoorden"
PUPIL_PAGE = "/beheer/schoolgegevens/leerlingen/wachtwoord"


def flash(response) -> str:
    found = re.search(r'<div class="flash (?:success|error)" role="(?:status|alert)">(.*?)</div>', response.text, re.S)
    return html.unescape(found.group(1).strip()) if found else ""


def group_logins(demo_stack, group_key="GRP4A") -> dict:
    with demo_stack.rpc() as rpc:
        return rpc.roster.group_logins(A, group_key)


def mails(to: str) -> list:
    folder = Path(os.environ["KOPPEL_MAIL_DIR"])
    found = (
        [
            email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
            for p in sorted(folder.glob("*.eml"), key=lambda p: p.stat().st_mtime)
        ]
        if folder.exists()
        else []
    )
    return [m for m in found if m["To"] == to]


def test_groepen_links_to_the_groups_pupils_with_their_logins(demo_stack, web_session):
    login(web_session, COORDINATOR, school_id=A)
    groups = web_session.get("/beheer/schoolgegevens/groepen")
    assert f'href="{GROUP_PAGE}?groep=GRP4A"' in groups.text  # "Klik op de groepsnaam"

    page = web_session.get(GROUP_PAGE, params={"groep": "GRP4A"})
    assert page.status_code == 200, page.text
    stored = group_logins(demo_stack)
    assert len(stored["pupils"]) >= 2
    for pupil in stored["pupils"]:
        assert html.escape(pupil["display_name"]) in page.text
        assert f'<span class="pincode">{pupil["pincode"]}</span>' in page.text
    assert "Wijzig login methode voor de groep" in page.text and "Printversie" in page.text
    assert "Wachtwoord/leerlingplaatje wijzigen" in page.text


def test_login_method_of_the_group_changes_and_the_table_shows_pictures(demo_stack, web_session):
    login(web_session, COORDINATOR, school_id=A)
    answer = web_session.post(
        "/beheer/schoolgegevens/groepen/loginmethode", data={"groep": "GRP4A", "method": "pictures"}
    )
    assert flash(answer) == "De login methode van de groep is nu: Plaatjes."
    stored = group_logins(demo_stack)
    assert stored["login_method"] == "pictures"
    assert answer.text.count("<svg") >= 3 * len(stored["pupils"])  # every pupil's pictures drawn
    assert '<span class="pincode">' not in answer.text

    wrong = web_session.post("/beheer/schoolgegevens/groepen/loginmethode", data={"groep": "GRP4A", "method": "x"})
    assert flash(wrong) == "Kies Pincode of Plaatjes."
    assert group_logins(demo_stack)["login_method"] == "pictures"  # unchanged


def test_printversie_is_a_pdf_with_every_pupil_and_pincode(demo_stack, web_session):
    login(web_session, COORDINATOR, school_id=A)
    pdf = web_session.get("/beheer/schoolgegevens/groepen/printversie", params={"groep": "GRP4A"})
    assert pdf.status_code == 200
    assert pdf.headers["Content-Type"] == "application/pdf"
    assert pdf.headers["Content-Disposition"] == 'inline; filename="inloggegevens-GRP4A.pdf"'
    assert pdf.headers["Cache-Control"] == "no-store"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    for pupil in group_logins(demo_stack)["pupils"]:
        assert pupil["display_name"] in text and pupil["pincode"] in text


def test_pincode_change_accepts_four_digits_only(demo_stack, web_session):
    login(web_session, COORDINATOR, school_id=A)
    page = web_session.get(PUPIL_PAGE, params={"leerling": "LL001"})
    assert page.status_code == 200 and "Noor" in page.text and "Thuislogin" in page.text
    before = next(p for p in group_logins(demo_stack)["pupils"] if p["key"] == "LL001")["pincode"]

    for bad in ("12a4", "123", "12345", ""):
        answer = web_session.post(
            "/beheer/schoolgegevens/leerlingen/pincode", data={"leerling": "LL001", "pincode": bad}
        )
        assert answer.url.endswith(f"{PUPIL_PAGE}?leerling=LL001")
        assert flash(answer) == "Een pincode bestaat uit precies 4 cijfers.", bad
    assert next(p for p in group_logins(demo_stack)["pupils"] if p["key"] == "LL001")["pincode"] == before

    new = "0000" if before != "0000" else "4321"
    answer = web_session.post("/beheer/schoolgegevens/leerlingen/pincode", data={"leerling": "LL001", "pincode": new})
    assert flash(answer) == "De pincode is gewijzigd."
    assert f'<span class="pincode">{new}</span>' in answer.text
    with demo_stack.rpc() as rpc:
        assert rpc.roster.verify_pupil_login(A, "LL001", pincode=new) == {"valid": True}


def test_picture_login_change(demo_stack, web_session):
    login(web_session, COORDINATOR, school_id=A)
    with demo_stack.rpc() as rpc:
        names = [p["name"] for p in rpc.roster.picture_set()["pictures"]]
        rpc.roster.set_group_login_method(A, "GRP4A", "pictures", "staff:test")  # pictures count for LL001
    chosen = [names[0], names[1], names[0]]
    answer = web_session.post(
        "/beheer/schoolgegevens/leerlingen/plaatjes",
        data={"leerling": "LL001", "plaatje1": chosen[0], "plaatje2": chosen[1], "plaatje3": chosen[2]},
    )
    assert flash(answer) == "De leerlingplaatjes zijn gewijzigd."
    with demo_stack.rpc() as rpc:
        assert rpc.roster.pupil_login(A, "LL001")["pictures"] == chosen
        assert rpc.roster.verify_pupil_login(A, "LL001", pictures=chosen) == {"valid": True}
    half = web_session.post(
        "/beheer/schoolgegevens/leerlingen/plaatjes", data={"leerling": "LL001", "plaatje1": names[2]}
    )
    assert flash(half) == "Kies 3 plaatjes."
    with demo_stack.rpc() as rpc:
        assert rpc.roster.pupil_login(A, "LL001")["pictures"] == chosen  # unchanged


def test_thuislogin_add_two_activate_one_remove(demo_stack, web_session, web_config_port):
    login(web_session, COORDINATOR, school_id=A)
    add = "/beheer/schoolgegevens/leerlingen/thuislogin"
    assert (
        flash(web_session.post(add, data={"leerling": "LL001", "email": "geen-adres"}))
        == "Dit is geen geldig e-mailadres."
    )
    first = web_session.post(add, data={"leerling": "LL001", "email": "ouder1@example.org"})
    assert flash(first) == "Er is een activeringsmail gestuurd naar ouder1@example.org."
    assert (
        flash(web_session.post(add, data={"leerling": "LL001", "email": "OUDER1@example.org"}))
        == "Dit e-mailadres is al een thuislogin van deze leerling."
    )
    second = web_session.post(add, data={"leerling": "LL001", "email": "ouder2@example.org"})
    assert "E-mailadres 2: ouder2@example.org" in second.text
    assert 'name="email" type="email"' not in second.text  # two addresses: no third field
    third = web_session.post(add, data={"leerling": "LL001", "email": "ouder3@example.org"})
    assert flash(third) == "Een leerling heeft hoogstens twee e-mailadressen voor de thuislogin."

    # the activation link from the mail, opened by someone without an account
    [mail] = mails("ouder1@example.org")
    link = re.search(r"https?://\S+/thuislogin/activeren\?token=(\S+)", mail.get_content())
    token = link.group(1)
    visitor = _Session(f"http://127.0.0.1:{web_config_port}")
    shown = visitor.get("/thuislogin/activeren", params={"token": token})
    assert shown.status_code == 200 and "Thuislogin activeren" in shown.text
    form_token = re.search(r'name="csrf_token" value="([^"]+)"', shown.text).group(1)
    forged = _Session(f"http://127.0.0.1:{web_config_port}").post(
        "/thuislogin/activeren", data={"token": token, "csrf_token": form_token}
    )  # no form cookie
    assert forged.status_code == 403
    done = visitor.post("/thuislogin/activeren", data={"token": token, "csrf_token": form_token})
    assert done.status_code == 200 and "De thuislogin voor ouder1@example.org is geactiveerd." in done.text
    again = visitor.post("/thuislogin/activeren", data={"token": token, "csrf_token": form_token})
    assert again.status_code == 400 and "ongeldig, verlopen of al gebruikt" in again.text

    removed = web_session.post(add + "/verwijderen", data={"leerling": "LL001", "email": "ouder1@example.org"})
    assert flash(removed) == "ouder1@example.org is verwijderd."
    with demo_stack.rpc() as rpc:
        assert rpc.roster.pupil_login(A, "LL001")["home_emails"] == ["ouder2@example.org"]


def test_other_schools_and_teachers_do_not_reach_pupil_logins(demo_stack, web_session, web_config_port):
    with demo_stack.rpc() as rpc:
        before = rpc.roster.pupil_login(A, "LL001")["pincode"]
    attempt = "9999" if before != "9999" else "8888"
    login(web_session, COORDINATOR_B)  # ICT in B only: A's group and pupil do not exist for them
    assert web_session.get(GROUP_PAGE, params={"groep": "GRP4A"}).status_code == 404
    assert web_session.get(PUPIL_PAGE, params={"leerling": "LL001"}).status_code == 404
    assert web_session.get("/beheer/schoolgegevens/groepen/printversie", params={"groep": "GRP4A"}).status_code == 404
    answer = web_session.post(
        "/beheer/schoolgegevens/leerlingen/pincode", data={"leerling": "LL001", "pincode": attempt}
    )
    assert flash(answer) == "Deze leerling is niet bekend."
    with demo_stack.rpc() as rpc:
        assert rpc.roster.pupil_login(A, "LL001")["pincode"] == before

    teacher = _Session(f"http://127.0.0.1:{web_config_port}")
    login(teacher, TEACHER, school_id=A)
    assert teacher.get(GROUP_PAGE, params={"groep": "GRP4A"}).status_code == 403
    assert teacher.get("/beheer/schoolgegevens/groepen/printversie", params={"groep": "GRP4A"}).status_code == 403
    assert (
        teacher.post(
            "/beheer/schoolgegevens/leerlingen/pincode", data={"leerling": "LL001", "pincode": attempt}
        ).status_code
        == 403
    )
