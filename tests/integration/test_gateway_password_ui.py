"""The HTML pages of seed §3.1 around the password: "Gebruikersnaam of wachtwoord vergeten", the
mailed link, setting a new password, and the CSRF checks of anonymous and logged-in forms."""
import re

from tests.gateway_fixtures import COORDINATOR, PASSWORD, A, login
from tests.integration.test_gateway_accounts import link_token, mails

pytest_plugins = ["tests.gateway_fixtures"]
NEW_PASSWORD = "een-nieuw-wachtwoord-42"


def form_token(page) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def test_forgotten_password_through_the_pages(demo_stack, web_session):
    form = web_session.get("/wachtwoord-vergeten")
    assert form.status_code == 200 and "Gebruikersnaam of wachtwoord vergeten" in form.text
    stale = web_session.post("/wachtwoord-vergeten", data={"email": COORDINATOR, "csrf_token": "geraden"})
    assert stale.status_code == 403 and "Het formulier was verlopen" in stale.text
    assert mails(COORDINATOR) == []

    sent = web_session.post("/wachtwoord-vergeten", data={"email": COORDINATOR, "csrf_token": form_token(form)})
    assert sent.status_code == 200 and "Als dit e-mailadres bij ons bekend is" in sent.text
    (mail,) = mails(COORDINATOR)
    token = link_token(mail)

    page = web_session.get(f"/wachtwoord/{token}")
    assert page.status_code == 200
    different = web_session.post(f"/wachtwoord/{token}", data={"password": NEW_PASSWORD, "password_again": "anders",
                                                               "csrf_token": form_token(page)})
    assert different.status_code == 400 and "De twee wachtwoorden zijn niet gelijk." in different.text
    done = web_session.post(f"/wachtwoord/{token}", data={"password": NEW_PASSWORD, "password_again": NEW_PASSWORD,
                                                          "csrf_token": form_token(page)})
    assert done.status_code == 200, done.text

    assert web_session.post("/api/v1/session", json={"email": COORDINATOR, "password": PASSWORD}).status_code == 401
    login(web_session, COORDINATOR, NEW_PASSWORD)
    assert web_session.get(f"/wachtwoord/{token}").status_code == 404  # the link was used


def test_a_logged_in_form_without_its_csrf_token_changes_nothing(demo_stack, web_session):
    login(web_session, COORDINATOR, school_id=A)
    header = web_session.http.headers.pop("X-CSRF-Token")
    refused = web_session.post("/beheer/resultaatkoppelingen/toestemming", data={"given": "1"})
    assert refused.status_code == 403
    wrong = web_session.post("/beheer/resultaatkoppelingen/toestemming", data={"given": "1", "csrf_token": "x" * 43})
    assert wrong.status_code == 403
    with demo_stack.rpc() as rpc:
        assert rpc.results.consent(A)["given"] is False
    accepted = web_session.post("/beheer/resultaatkoppelingen/toestemming", data={"given": "1", "csrf_token": header})
    assert accepted.status_code == 200 and "Toestemming is gegeven." in accepted.text
    with demo_stack.rpc() as rpc:
        assert rpc.results.consent(A)["given"] is True
