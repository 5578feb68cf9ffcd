"""Invitations, "Gebruikersnaam of wachtwoord vergeten" and the operator CLI, with real mail files
(.eml under KOPPEL_MAIL_DIR), the real roster over RPC and PostgreSQL."""
import datetime as dt
import email
import os
import re
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import func, select

from services.cli import main as koppel
from services.gateway import models as gm
from tests.gateway_fixtures import COORDINATOR, TEACHER, A, login

pytest_plugins = ["tests.gateway_fixtures"]
NEW_TEACHER = "u.veldman@regenboog.example"  # staff of A without an account yet


def mails(to: str | None = None) -> list[email.message.EmailMessage]:
    folder = Path(os.environ["KOPPEL_MAIL_DIR"])
    found = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
             for p in sorted(folder.glob("*.eml"), key=lambda p: p.stat().st_mtime)] if folder.exists() else []
    return [m for m in found if to is None or m["To"] == to]


def link_token(message) -> str:
    return re.search(r"/wachtwoord/([A-Za-z0-9_-]+)", message.get_content()).group(1)


def test_cli_invitation_lets_new_staff_set_a_password_once(demo_stack, web_session):
    result = CliRunner().invoke(koppel, ["accounts", "invite", NEW_TEACHER.upper()])
    assert result.exit_code == 0, result.output
    [invitation] = mails(NEW_TEACHER)
    assert invitation["Subject"] == "Uitnodiging voor het beheerdeel"
    assert NEW_TEACHER in invitation.get_content()  # the user name
    token = link_token(invitation)

    short = web_session.post("/api/v1/password", json={"token": token, "password": "kort"})
    assert short.status_code == 400
    assert short.json()["error"]["fields"] == {"password": ["Het wachtwoord moet minstens 10 tekens hebben."]}
    assert web_session.post("/api/v1/password", json={"token": token, "password": "nieuw-wachtwoord-1"}) \
        .status_code == 204
    again = web_session.post("/api/v1/password", json={"token": token, "password": "ander-wachtwoord-2"})
    assert again.status_code == 404  # single use
    info = login(web_session, NEW_TEACHER, "nieuw-wachtwoord-1")
    assert info["school_id"] == A


def test_cli_refuses_an_address_no_school_lists(demo_stack, sessions):
    result = CliRunner().invoke(koppel, ["accounts", "invite", "onbekend@elders.example"])
    assert result.exit_code == 2
    assert "no school lists this e-mail address" in result.output
    assert mails() == []
    with sessions["gateway"]() as s:
        assert s.scalar(select(func.count()).select_from(gm.Account).where(
            gm.Account.email == "onbekend@elders.example")) == 0


def test_cli_set_password_ends_open_sessions(demo_stack, web_session):
    login(web_session, TEACHER)
    result = CliRunner().invoke(koppel, ["accounts", "set-password", TEACHER],
                                input="operator-gezet-1\noperator-gezet-1\n")
    assert result.exit_code == 0, result.output
    assert web_session.get("/api/v1/session").status_code == 401
    login(web_session, TEACHER, "operator-gezet-1")


def test_an_expired_invitation_link_is_refused(demo_stack, web_session, sessions):
    assert CliRunner().invoke(koppel, ["accounts", "invite", NEW_TEACHER]).exit_code == 0
    with sessions["gateway"]() as s, s.begin():
        for link in s.scalars(select(gm.LoginLink)):
            link.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    response = web_session.post("/api/v1/password", json={"token": link_token(mails(NEW_TEACHER)[0]),
                                                           "password": "nieuw-wachtwoord-1"})
    assert response.status_code == 404
    assert response.json()["error"]["fields"] == {"token": ["Deze link is ongeldig of verlopen."]}


def test_forgotten_password_mails_a_reset_link_only_to_known_staff(demo_stack, web_session):
    unknown = web_session.post("/api/v1/password-reset", json={"email": "onbekend@elders.example"})
    known = web_session.post("/api/v1/password-reset", json={"email": TEACHER})
    assert unknown.status_code == known.status_code == 202
    assert unknown.json() == known.json()  # no probing which addresses exist
    [reset] = mails()
    assert reset["To"] == TEACHER and reset["Subject"] == "Gebruikersnaam of wachtwoord vergeten"
    assert "1 uur geldig" in reset.get_content()
    assert web_session.post("/api/v1/password", json={"token": link_token(reset), "password": "teruggezet-1234"}) \
        .status_code == 204
    login(web_session, TEACHER, "teruggezet-1234")


def test_reset_requests_are_rate_limited(demo_stack, web_session):
    for _ in range(3):
        assert web_session.post("/api/v1/password-reset", json={"email": TEACHER}).status_code == 202
    blocked = web_session.post("/api/v1/password-reset", json={"email": TEACHER})
    assert blocked.status_code == 429
    assert len(mails(TEACHER)) == 3


def test_a_coordinator_invites_a_teacher_of_the_school_from_leerkrachten(demo_stack, web_session):
    login(web_session, COORDINATOR, school_id=A)
    sent = web_session.post(f"/api/v1/schools/{A}/staff/LK2/invitation")
    assert sent.status_code == 202, sent.text
    assert [m["To"] for m in mails()] == [NEW_TEACHER]
    no_email = web_session.post(f"/api/v1/schools/{A}/staff/LK3/invitation")  # Lia de Bruin has no e-mail address
    assert no_email.status_code == 400
    assert no_email.json()["error"]["fields"] == {
        "email": ["Deze leerkracht heeft geen e-mailadres in de schooladministratie."]}
    assert web_session.post(f"/api/v1/schools/{A}/staff/Z-LK2/invitation").status_code == 404  # B's teacher
    assert len(mails()) == 1


def test_cli_purge_deletes_spent_links_and_keeps_live_sessions(demo_stack, web_session, sessions):
    assert CliRunner().invoke(koppel, ["accounts", "invite", NEW_TEACHER]).exit_code == 0
    token = link_token(mails(NEW_TEACHER)[0])
    assert web_session.post("/api/v1/password", json={"token": token, "password": "nieuw-wachtwoord-1"}) \
        .status_code == 204
    login(web_session, NEW_TEACHER, "nieuw-wachtwoord-1")
    result = CliRunner().invoke(koppel, ["accounts", "purge"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "sessions: 0 deleted, links: 1 deleted, attempts: 0 deleted"
    assert web_session.get("/api/v1/session").status_code == 200
