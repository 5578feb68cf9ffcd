"""Logging in, invitations and "Gebruikersnaam of wachtwoord vergeten": the account rules plus the
roster (who is staff where) plus mail. Used by the JSON API, the admin UI and the operator CLI."""
from __future__ import annotations

from sqlalchemy.orm import Session

from services.gateway import accounts, websessions
from services.gateway.dutch import nl
from services.gateway.errors import Unauthorized
from services.gateway.models import WebSession
from shared import config
from shared.errors import InvalidInput, NotFound
from shared.mail import send_mail

MAX_RESETS_PER_EMAIL = 3
MAX_RESETS_PER_CLIENT = 20


def public_url() -> str:
    """The address links in mails point to (never taken from the request's Host header)."""
    default = "http://localhost:" + config.setting("WEB_SERVER_ADDRESS", "0.0.0.0:8000").rsplit(":", 1)[-1]
    return config.setting("PUBLIC_BASE_URL", default).rstrip("/")


def log_in(db: Session, roster, email: str, password: str, client: str) -> tuple[str, WebSession]:
    """A new session (cookie token, row) for a right password of staff the roster still knows.

    Raises TooManyRequests (rate limit), Unauthorized (wrong e-mail or password, or no school)."""
    with db.begin():
        account = accounts.authenticate(db, email, password, client)
    if account is None:
        raise Unauthorized("wrong e-mail address or password",
                           {"password": [nl("Onjuist e-mailadres of wachtwoord.")]})
    memberships = roster.memberships(account.email)
    if not memberships:
        raise Unauthorized("no school lists this account",
                           {"email": [nl("Je bent (nog) niet aan een school gekoppeld in de schooladministratie.")]})
    with db.begin():
        return websessions.open_session(db, account, memberships)


def _mail_link(email: str, token: str, purpose: str) -> str:
    link = f"{public_url()}/wachtwoord/{token}"
    if purpose == "invitation":
        subject = "Uitnodiging voor het beheerdeel"
        text = (f"Hallo,\n\nJe bent uitgenodigd voor het beheerdeel van de digitale lesmethodes.\n"
                f"Je gebruikersnaam is je school-e-mailadres: {email}\n\n"
                f"Kies hier je wachtwoord (de link werkt één keer en is {accounts.INVITATION_VALID.days} dagen "
                f"geldig):\n{link}\n")
    else:
        hours = int(accounts.RESET_VALID.total_seconds() // 3600)
        subject = "Gebruikersnaam of wachtwoord vergeten"
        text = (f"Hallo,\n\nJe gebruikersnaam is je school-e-mailadres: {email}\n\n"
                f"Stel hier een nieuw wachtwoord in (de link werkt één keer en is {hours} uur geldig):\n{link}\n\n"
                f"Heb je dit niet aangevraagd? Dan kun je deze e-mail negeren.\n")
    return send_mail(email, subject, text)


def invite(db: Session, roster, email: str) -> str:
    """Mail staff the roster knows an invitation link; returns where the mail went (.eml path or id).
    Raises NotFound when no school lists the e-mail address."""
    email = accounts.normalise_email(email)
    if not roster.memberships(email):
        raise NotFound("no school lists this e-mail address",
                       {"email": [nl("Dit e-mailadres is bij geen enkele school bekend.")]})
    with db.begin():
        token = accounts.issue_link(db, accounts.get_or_create_account(db, email), "invitation")
    return _mail_link(email, token, "invitation")


def invite_staff(db: Session, roster, school_id: str, staff_key: str) -> str:
    """Invite a staff member of the school by key (the Leerkrachten tab)."""
    from services.gateway.queries import all_staff

    member = next((x for x in all_staff(roster, school_id) if x["key"] == staff_key), None)
    if member is None:
        raise NotFound("staff member not found")
    if not member.get("email"):
        raise InvalidInput("staff member has no e-mail address",
                           {"email": [nl("Deze leerkracht heeft geen e-mailadres in de schooladministratie.")]})
    return invite(db, roster, member["email"])


def request_reset(db: Session, roster, email: str, client: str) -> str | None:
    """Mail a reset link if the roster knows the address; the caller answers the same either way.
    Rate-limited per e-mail address and per client."""
    email = accounts.normalise_email(email)
    with db.begin():
        accounts.check_rate(db, "reset_requested", email, client, MAX_RESETS_PER_EMAIL, MAX_RESETS_PER_CLIENT)
        accounts.record_attempt(db, "reset_requested", email, client)
    if not roster.memberships(email):
        return None
    with db.begin():
        token = accounts.issue_link(db, accounts.get_or_create_account(db, email), "reset")
    return _mail_link(email, token, "reset")
