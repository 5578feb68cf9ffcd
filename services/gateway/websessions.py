"""Server-side web sessions: open, find, choose a school, close. No nameko, no HTTP.

The cookie carries a random token; the row is keyed by its SHA-256 digest. A session remembers the
roster's memberships of its account (refreshed by the caller when older than MEMBERSHIPS_TTL) and
the school chosen under "Selecteer school".
"""
from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import delete
from sqlalchemy.orm import Session

from services.gateway.accounts import digest, utcnow
from services.gateway.cache import SESSIONS
from services.gateway.dutch import nl
from services.gateway.models import Account, WebSession
from shared import config
from shared.errors import NotFound

TOUCH_EVERY = dt.timedelta(seconds=60)  # last_seen_at is written at most this often (one write, not one per request)


def idle_timeout() -> dt.timedelta:
    return dt.timedelta(minutes=config.float_setting("SESSION_IDLE_MINUTES", 60))


def max_age() -> dt.timedelta:
    return dt.timedelta(hours=config.float_setting("SESSION_MAX_HOURS", 12))


def memberships_ttl() -> dt.timedelta:
    return dt.timedelta(seconds=config.float_setting("MEMBERSHIPS_TTL_SECONDS", 300))


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def open_session(session: Session, account: Account, memberships: list[dict]) -> tuple[str, WebSession]:
    """A new session for the account (token returned once). With one school it is chosen already."""
    now = utcnow()
    token = secrets.token_urlsafe(32)
    ws = WebSession(token_hash=digest(token), account_id=account.id, email=account.email,
                    csrf_token=secrets.token_urlsafe(32),
                    created_at=now, last_seen_at=now, expires_at=now + max_age(),
                    memberships=memberships, memberships_at=now,
                    school_id=memberships[0]["school_id"] if len(memberships) == 1 else None)
    session.add(ws)
    session.flush()
    return token, ws


def find(session: Session, token: str | None) -> WebSession | None:
    """The live session of a cookie token, or None (unknown, expired, or idle too long)."""
    if not token:
        return None
    ws = session.get(WebSession, digest(token))
    if ws is None:
        return None
    now = utcnow()
    if _aware(ws.expires_at) < now or _aware(ws.last_seen_at) + idle_timeout() < now:
        return None
    return ws


def needs_touch(ws: WebSession) -> bool:
    return _aware(ws.last_seen_at) + TOUCH_EVERY < utcnow()


def memberships_stale(ws: WebSession) -> bool:
    return _aware(ws.memberships_at) + memberships_ttl() < utcnow()


def refresh_memberships(ws: WebSession, memberships: list[dict]) -> None:
    """Take the roster's current answer; a school the account left is no longer chosen."""
    ws.memberships = memberships
    ws.memberships_at = utcnow()
    if ws.school_id and membership(ws, ws.school_id) is None:
        ws.school_id = None
    SESSIONS.discard(ws.token_hash)


def membership(ws: WebSession, school_id: str | None) -> dict | None:
    return next((m for m in ws.memberships or [] if m["school_id"] == school_id), None)


def choose_school(ws: WebSession, school_id: str) -> dict:
    found = membership(ws, school_id)
    if found is None:
        raise NotFound("school not found", {"school_id": [nl("Onbekende school.")]})
    ws.school_id = school_id
    SESSIONS.discard(ws.token_hash)
    return found


def close(session: Session, token: str | None) -> None:
    if token:
        session.execute(delete(WebSession).where(WebSession.token_hash == digest(token)))
        SESSIONS.discard(digest(token))


def close_all(session: Session, account_id: int) -> None:
    """After a password change every other session of the account ends."""
    session.execute(delete(WebSession).where(WebSession.account_id == account_id))
    SESSIONS.clear()  # rare (a password change): simpler than indexing the cache by account


def purge_expired(session: Session) -> int:
    now = utcnow()
    return session.execute(delete(WebSession).where(
        (WebSession.expires_at < now) | (WebSession.last_seen_at < now - idle_timeout()))).rowcount
