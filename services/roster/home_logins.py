"""Thuislogin (seed §4): at most two e-mail addresses per pupil, each activated by its own mail.

"Hier kunt u maximaal twee e-mailadressen invoeren die door deze leerling thuis gebruikt kunnen
worden om in te loggen. Zij zullen een e-mail ontvangen waarin zij hun account kunnen activeren."

The activation link carries a random token; only its SHA-256 is stored, it expires after
`HOME_LOGIN_ACTIVATION_HOURS` (72) and works once. The mail is sent inside the transaction that
stores the address: if sending fails nothing is stored; if the commit fails afterwards, the link in
the mail simply does not work. Addresses are encrypted at rest and never logged.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets as random_source
import uuid
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.roster import login_schemas as ls
from services.roster import logins
from services.roster import models as m
from services.roster.login_models import HomeLogin
from shared import config
from shared.errors import Conflict, InvalidInput, NotFound
from shared.mail import send_mail
from shared.messaging import utcnow
from shared.secrets import decrypt, encrypt

ACTIVATION_PATH = "/thuislogin/activeren"


def activation_hours() -> float:
    return config.float_setting("HOME_LOGIN_ACTIVATION_HOURS", 72)


def activation_url(token: str) -> str:
    base = config.setting("PUBLIC_BASE_URL", "http://localhost:8000").rstrip("/")
    return f"{base}{ACTIVATION_PATH}?token={quote(token)}"


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _same_address(a: str, b: str) -> bool:
    return a.strip().casefold() == b.strip().casefold()


def _registered(session: Session, pupil: m.Pupil) -> list[tuple[HomeLogin, str]]:
    rows = session.scalars(select(HomeLogin).where(HomeLogin.school_id == pupil.school_id,
                                                   HomeLogin.pupil_key == pupil.key)
                           .order_by(HomeLogin.created_at, HomeLogin.id))
    return [(row, decrypt(row.email_secret)) for row in rows]


def _activation_mail(to: str, school: m.School | None, url: str, expires: dt.datetime) -> None:
    # No pupil name in the mail: a mistyped address must not tell a stranger which child goes where.
    school_name = school.name if school and school.name else "de school"
    text = (f"Beste ouder/verzorger,\n\n"
            f"{school_name} heeft dit e-mailadres opgegeven als thuislogin: hiermee kan uw kind thuis "
            f"inloggen.\n\nActiveer het account met deze link (geldig tot {expires:%d-%m-%Y %H:%M} UTC, "
            f"één keer te gebruiken):\n{url}\n\n"
            f"Verwachtte u deze e-mail niet? Dan kunt u hem negeren; er gebeurt dan niets.\n")
    send_mail(to, "Activeer de thuislogin", text)


def add_home_email(session: Session, school_id: str, pupil_key: str, email: str,
                   now: dt.datetime | None = None) -> dict:
    """Register a home-login address (pending) and mail its activation link; returns the pupil's login.

    InvalidInput (field `email`) for a malformed address, Conflict (field `email`) for a third address
    or one the pupil already has.
    """
    address = ls.load(ls.HomeEmailInput(), {"email": email.strip() if isinstance(email, str) else email})["email"]
    now = now or utcnow()
    pupil = logins.find_pupil(session, school_id, pupil_key)
    login = logins.locked_login(session, pupil)  # two concurrent adds cannot both pass the limit
    registered = _registered(session, pupil)
    if any(_same_address(address, known) for _, known in registered):
        raise Conflict("this address is already a home login of the pupil", {"email": ["already registered"]})
    if len(registered) >= ls.MAX_HOME_EMAILS:
        raise Conflict("a pupil has at most two home-login addresses",
                       {"email": [f"at most {ls.MAX_HOME_EMAILS} addresses per pupil"]})
    token = random_source.token_urlsafe(32)
    expires = now + dt.timedelta(hours=activation_hours())
    session.add(HomeLogin(id=str(uuid.uuid4()), school_id=school_id, pupil_key=pupil_key,
                          email_secret=encrypt(address), created_at=now,
                          activation_token_hash=_token_hash(token), activation_expires_at=expires))
    session.flush()
    _activation_mail(address, session.get(m.School, school_id), activation_url(token), expires)
    return logins.pupil_login(session, pupil, login)


def remove_home_email(session: Session, school_id: str, pupil_key: str, email: str) -> dict:
    """Remove a home-login address (its activation link stops working); NotFound (field `email`) if the
    pupil has no such address."""
    if not isinstance(email, str) or not email.strip():
        raise InvalidInput("invalid input", {"email": ["an e-mail address is required"]})
    pupil = logins.find_pupil(session, school_id, pupil_key)
    login = logins.locked_login(session, pupil)
    for row, known in _registered(session, pupil):
        if _same_address(email, known):
            session.delete(row)
            session.flush()
            return logins.pupil_login(session, pupil, login)
    raise NotFound("the pupil has no such home-login address", {"email": ["not a home login of this pupil"]})


def activate_home_email(session: Session, token: str, now: dt.datetime | None = None) -> dict:
    """Activate the address whose mail carried `token`; the token then stops working.
    InvalidInput (field `token`) for an unknown, used or expired token (one answer for all three)."""
    refused = InvalidInput("activation link invalid", {"token": ["invalid, expired or already used"]})
    if not isinstance(token, str) or not token:
        raise refused
    now = now or utcnow()
    row = session.scalars(select(HomeLogin).where(HomeLogin.activation_token_hash == _token_hash(token))
                          .with_for_update()).first()
    if row is None or logins.as_utc(row.activation_expires_at) <= now:
        raise refused
    row.activated_at, row.activation_token_hash, row.activation_expires_at = now, None, None
    return {"activated": True, "email": decrypt(row.email_secret)}
