"""Who is asking, for which school, and may they: checked on the server for every request.

Levels, from weakest to strongest:
- "session": logged in (choose a school, log out, who am I);
- "school": logged in, and the school in the URL (or, for the admin UI, the session's) is the
  chosen school and the roster still lists the account there; any other school is 404, whatever
  ids are tried (OWASP API1);
- "beheer": as "school", and an ICT coordinator there; a teacher gets 403.
Every state-changing request also carries the session's CSRF token (header X-CSRF-Token or form
field csrf_token).
"""
from __future__ import annotations

import hmac
from dataclasses import dataclass

from sqlalchemy.orm import Session

from services.gateway import websessions
from services.gateway.accounts import digest
from services.gateway.cache import SESSIONS
from services.gateway.errors import Unauthorized
from services.gateway.models import WebSession
from shared import config
from shared.errors import Forbidden, NotFound

SESSION_COOKIE = "koppel_session"
STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
LEVELS = ("session", "school", "beheer")


@dataclass(frozen=True)
class SessionView:
    """A read-only copy of a session row, kept in the per-process cache for read requests."""
    token_hash: str
    account_id: int
    email: str
    csrf_token: str
    school_id: str | None
    memberships: list
    flash: None = None

    @classmethod
    def of(cls, ws: WebSession) -> SessionView:
        return cls(ws.token_hash, ws.account_id, ws.email, ws.csrf_token, ws.school_id, list(ws.memberships or []))


@dataclass
class Caller:
    token: str
    web_session: WebSession | SessionView  # a SessionView only for cached read requests
    membership: dict | None  # of the chosen school

    @property
    def email(self) -> str:
        return self.web_session.email

    @property
    def school_id(self) -> str | None:
        return self.membership["school_id"] if self.membership else None

    @property
    def staff_key(self) -> str | None:
        return self.membership["staff_key"] if self.membership else None

    @property
    def is_coordinator(self) -> bool:
        return bool(self.membership and self.membership["is_ict_coordinator"])

    @property
    def by(self) -> str:
        """Who did it, as recorded in events: the staff key, not the e-mail address (events leave koppel)."""
        return f"staff:{self.staff_key}"

    @property
    def csrf_token(self) -> str:
        return self.web_session.csrf_token


def cookie_secure() -> bool:
    return config.setting("COOKIE_SECURE", "0") == "1"


def session_cookie_args(token: str) -> dict:
    return {"key": SESSION_COOKIE, "value": token, "httponly": True, "samesite": "Lax", "path": "/",
            "secure": cookie_secure(), "max_age": int(websessions.max_age().total_seconds())}


def client_address(request) -> str:
    return request.remote_addr or "unknown"


def csrf_ok(request, expected: str) -> bool:
    sent = request.headers.get("X-CSRF-Token") or request.form.get("csrf_token") or ""
    return hmac.compare_digest(sent.encode(), expected.encode())


def current(db: Session, roster, request, *, cached: bool = False) -> Caller | None:
    """The caller of a request with a live session, or None. Refreshes stale memberships from the
    roster and ends the read transaction, so the handler can open its own.

    cached=True (read requests of the JSON API) may answer from the per-process session cache:
    a logout, password change or school choice made through another gateway process is seen
    there after at most SESSION_CACHE_SECONDS."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    if cached:
        view = SESSIONS.get(digest(token))
        if view is not None:
            return Caller(token=token, web_session=view, membership=websessions.membership(view, view.school_id))
    ws = websessions.find(db, token)
    if ws is None:
        db.rollback()
        return None
    if websessions.memberships_stale(ws):
        websessions.refresh_memberships(ws, roster.memberships(ws.email))
    if websessions.needs_touch(ws):
        ws.last_seen_at = websessions.utcnow()
    db.commit()
    SESSIONS.put(ws.token_hash, SessionView.of(ws))
    return Caller(token=token, web_session=ws, membership=websessions.membership(ws, ws.school_id))


def authorize(db: Session, roster, request, level: str, school_id: str | None = None, *,
              cached: bool = False) -> Caller:
    """The caller, if allowed at `level` for `school_id` (None: the session's chosen school).

    Raises Unauthorized (no session), Forbidden (CSRF token missing or wrong; a teacher at
    "beheer"), NotFound (a school that is not the chosen one, or no longer the account's).
    cached: a GET may be answered from the session cache (see `current`)."""
    assert level in LEVELS, level
    caller = current(db, roster, request, cached=cached and request.method == "GET")
    if caller is None:
        raise Unauthorized("not logged in")
    if request.method in STATE_CHANGING and not csrf_ok(request, caller.csrf_token):
        raise Forbidden("CSRF token missing or wrong", {"csrf_token": ["missing or wrong"]})
    if level == "session":
        return caller
    if caller.membership is None or (school_id is not None and school_id != caller.school_id):
        raise NotFound("school not found")
    if level == "beheer" and not caller.is_coordinator:
        raise Forbidden("only ICT coordinators reach Beheer")
    return caller
