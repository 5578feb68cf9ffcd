"""Accounts, passwords, invitation and reset links, login with rate limits. No nameko, no HTTP.

Who may log in is the roster's business: an account is only a password for a school e-mail address
that the roster knows; the caller passes the roster's memberships in.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from services.gateway.dutch import nl
from services.gateway.errors import TooManyRequests
from services.gateway.models import Account, LoginAttempt, LoginLink
from shared import config
from shared.errors import InvalidInput, NotFound

INVITATION_VALID = dt.timedelta(days=7)
RESET_VALID = dt.timedelta(hours=1)
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 200
RATE_WINDOW = dt.timedelta(minutes=15)

_hasher = PasswordHasher()  # argon2id, the library's defaults (64 MiB, 3 passes)
# verifying against this when the account is unknown takes as long as a real check (no e-mail probing by timing)
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def max_login_failures() -> int:
    return int(config.setting("STAFF_LOGIN_MAX_FAILURES", "5"))


def max_client_failures() -> int:
    return int(config.setting("STAFF_LOGIN_MAX_FAILURES_PER_CLIENT", "30"))


def check_password_rules(password: str, field: str = "password") -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput("password too short",
                           {field: [nl(f"Het wachtwoord moet minstens {MIN_PASSWORD_LENGTH} tekens hebben.")]})
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInput("password too long",
                           {field: [nl(f"Het wachtwoord mag hoogstens {MAX_PASSWORD_LENGTH} tekens hebben.")]})


def get_or_create_account(session: Session, email: str) -> Account:
    email = normalise_email(email)
    account = session.scalar(select(Account).where(Account.email == email))
    if account is None:
        account = Account(email=email, created_at=utcnow())
        session.add(account)
        session.flush()
    return account


def find_account(session: Session, email: str) -> Account | None:
    return session.scalar(select(Account).where(Account.email == normalise_email(email)))


def set_password(session: Session, account: Account, password: str) -> None:
    check_password_rules(password)
    account.password_hash = _hasher.hash(password)
    account.password_set_at = utcnow()


def issue_link(session: Session, account: Account, purpose: str) -> str:
    """A new single-use link token (returned once, stored as a digest); older unused links of the
    same purpose stop working."""
    now = utcnow()
    session.execute(delete(LoginLink).where(LoginLink.account_id == account.id, LoginLink.purpose == purpose,
                                            LoginLink.used_at.is_(None)))
    token = secrets.token_urlsafe(32)
    valid = INVITATION_VALID if purpose == "invitation" else RESET_VALID
    session.add(LoginLink(token_hash=digest(token), account_id=account.id, purpose=purpose,
                          created_at=now, expires_at=now + valid))
    session.flush()
    return token


def valid_link(session: Session, token: str, *, lock: bool = False) -> LoginLink:
    """The link behind a token; NotFound when unknown, used or expired (one answer for all three)."""
    link = session.get(LoginLink, digest(token or ""), with_for_update=lock)
    if link is None or link.used_at is not None or _aware(link.expires_at) < utcnow():
        raise NotFound("link unknown, used or expired", {"token": [nl("Deze link is ongeldig of verlopen.")]})
    return link


def use_link(session: Session, token: str, password: str) -> Account:
    """Set the password through an invitation or reset link; the link is spent."""
    check_password_rules(password)
    link = valid_link(session, token, lock=True)
    account = session.get(Account, link.account_id)
    set_password(session, account, password)
    link.used_at = utcnow()
    return account


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)  # SQLite returns naive datetimes


def _recent(session: Session, kind: str, column, value: str) -> int:
    return session.scalar(select(func.count()).select_from(LoginAttempt).where(
        LoginAttempt.kind == kind, column == value, LoginAttempt.at > utcnow() - RATE_WINDOW))


def check_rate(session: Session, kind: str, email: str, client: str, per_email: int, per_client: int) -> None:
    if _recent(session, kind, LoginAttempt.email, email) >= per_email or \
            _recent(session, kind, LoginAttempt.client, client) >= per_client:
        minutes = int(RATE_WINDOW.total_seconds() // 60)
        raise TooManyRequests("too many attempts",
                              {"email": [nl(f"Te veel pogingen. Probeer het over {minutes} minuten opnieuw.")]})


def record_attempt(session: Session, kind: str, email: str, client: str) -> None:
    session.add(LoginAttempt(kind=kind, email=email, client=client[:64], at=utcnow()))


def authenticate(session: Session, email: str, password: str, client: str) -> Account | None:
    """The account whose password matches, or None (unknown e-mail and wrong password look the same).
    Raises TooManyRequests, before checking, when this e-mail or client failed too often within
    RATE_WINDOW. The caller commits also on None, so that the failure counts."""
    email = normalise_email(email)
    check_rate(session, "login_failed", email, client, max_login_failures(), max_client_failures())
    account = find_account(session, email)
    try:
        _hasher.verify(account.password_hash if account and account.password_hash else _DUMMY_HASH,
                       password or "")
        ok = account is not None and account.password_hash is not None
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok:
        record_attempt(session, "login_failed", email, client)
        return None
    session.execute(delete(LoginAttempt).where(LoginAttempt.kind == "login_failed", LoginAttempt.email == email))
    if _hasher.check_needs_rehash(account.password_hash):
        account.password_hash = _hasher.hash(password)
    return account


def purge_spent(session: Session) -> dict:
    """Delete used or expired links and attempts older than the rate window; returns the counts."""
    now = utcnow()
    links = session.execute(delete(LoginLink).where(
        (LoginLink.used_at.is_not(None)) | (LoginLink.expires_at < now))).rowcount
    attempts = session.execute(delete(LoginAttempt).where(LoginAttempt.at < now - RATE_WINDOW)).rowcount
    return {"links": links, "attempts": attempts}
