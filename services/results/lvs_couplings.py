"""LVS couplings ("Resultaatkoppelingen"): which LVS a school sends its practice results to, with
which authorisation key. The key is a secret: encrypted at rest, only its hint is ever returned."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

from marshmallow import ValidationError
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.results import models as m
from services.results.consent import check_school, consent_given
from services.results.schemas import LvsCouplingInput, LvsCouplingSchema, LvsKeyInput
from shared import config, secrets
from shared.errors import Conflict, InvalidInput, NotFound
from shared.messaging import utcnow

# Machine codes of a coupling's status (the UI shows them in Dutch):
ACTIVE = "active"              # results go out as they come
RETRYING = "retrying"          # the last attempt failed (network, timeout, 5xx, LVS fault); retried with backoff
KEY_REJECTED = "key_rejected"  # the LVS refused the key; nothing is sent until the key is changed
NO_CONSENT = "no_consent"      # shown, never stored: the school has not given consent, nothing leaves
STATUSES = (ACTIVE, RETRYING, KEY_REJECTED, NO_CONSENT)


@dataclass(frozen=True)
class LvsOption:
    code: str
    name: str


OTHER = "other"
CATALOGUE = (LvsOption("momento", "Momento"), LvsOption("parnassys", "ParnasSys"), LvsOption("esis", "ESIS"),
             LvsOption(OTHER, "Ander leerlingvolgsysteem"))
NAMES = {o.code: o.name for o in CATALOGUE}


def configured_endpoint(lvs: str) -> str | None:
    """The operator-configured UWLR endpoint of a known LVS (`RESULTS_LVS_ENDPOINT_<CODE>`)."""
    if lvs == OTHER:
        return None
    return config.setting(f"RESULTS_LVS_ENDPOINT_{lvs.upper()}", "") or None


def lvs_options() -> list[dict]:
    """The LVSs a coordinator can choose; `endpoint_url_required` when koppel knows no endpoint."""
    return [{"lvs": o.code, "lvs_name": o.name, "endpoint_url_required": configured_endpoint(o.code) is None}
            for o in CATALOGUE]


def endpoint_problem(url: str) -> str | None:
    parts = urlsplit(url)
    allowed = ("https", "http") if config.setting("RESULTS_LVS_ALLOW_HTTP", "0") == "1" else ("https",)
    if parts.scheme not in allowed:
        return "must be an https:// URL" if allowed == ("https",) else "must be an http(s):// URL"
    if not parts.hostname:
        return "has no host"
    if parts.username or parts.password:
        return "must not contain a user name or password"
    return None


def _load(schema, data) -> dict:
    try:
        return schema.load(data if isinstance(data, dict) else {})
    except ValidationError as exc:
        raise InvalidInput("invalid LVS coupling", exc.messages_dict) from None


def _check_by(by) -> None:
    if not isinstance(by, str) or not by.strip():
        raise InvalidInput("invalid LVS coupling", {"by": ["who makes the change is required"]})


def view(session: Session, coupling: m.LvsCoupling, *, consent: bool | None = None) -> dict:
    if consent is None:
        consent = consent_given(session, coupling.school_id)
    status = coupling.status
    if status != KEY_REJECTED and not consent:
        status = NO_CONSENT
    return LvsCouplingSchema().dump({
        "id": coupling.id, "lvs": coupling.lvs, "lvs_name": NAMES.get(coupling.lvs, coupling.lvs),
        "endpoint_url": coupling.endpoint_url or configured_endpoint(coupling.lvs),
        "key_hint": coupling.key_hint, "status": status,
        "last_export_at": m.as_utc(coupling.last_export_at), "last_export_count": coupling.last_export_count,
        "last_error": coupling.last_error,
    })


def lvs_couplings(session: Session, school_id: str) -> list[dict]:
    check_school(school_id)
    rows = session.scalars(select(m.LvsCoupling).where(m.LvsCoupling.school_id == school_id,
                                                       m.LvsCoupling.removed_at.is_(None))
                           .order_by(m.LvsCoupling.created_at, m.LvsCoupling.id)).all()
    consent = consent_given(session, school_id)
    return [view(session, c, consent=consent) for c in rows]


def get_coupling(session: Session, school_id: str, coupling_id: str, *, lock: bool = False) -> m.LvsCoupling:
    """The school's live coupling; another school's (or a removed) coupling is NotFound, like a
    non-existent one (OWASP API1)."""
    try:
        uuid.UUID(str(coupling_id))
    except ValueError:
        raise NotFound("LVS coupling not found") from None
    coupling = session.get(m.LvsCoupling, str(coupling_id), with_for_update=lock)
    if coupling is None or coupling.school_id != school_id or coupling.removed_at is not None:
        raise NotFound("LVS coupling not found")
    return coupling


def add_lvs_coupling(session: Session, school_id: str, data: dict, by: str) -> dict:
    """Couple the school to an LVS. Raises InvalidInput (per field) or Conflict (already coupled)."""
    check_school(school_id)
    _check_by(by)
    values = _load(LvsCouplingInput(), data)
    lvs = values["lvs"]
    if lvs not in NAMES:
        raise InvalidInput("invalid LVS coupling", {"lvs": [f"unknown LVS; choose one of {', '.join(NAMES)}"]})
    endpoint = values["endpoint_url"] or None
    if endpoint is None and configured_endpoint(lvs) is None:
        raise InvalidInput("invalid LVS coupling", {"endpoint_url": [f"required for {NAMES[lvs]}"]})
    if endpoint is not None and (problem := endpoint_problem(endpoint)):
        raise InvalidInput("invalid LVS coupling", {"endpoint_url": [problem]})
    key = values["authorisation_key"]
    now = utcnow()
    coupling = m.LvsCoupling(
        id=str(uuid.uuid4()), school_id=school_id, lvs=lvs, endpoint_url=endpoint,
        key_encrypted=secrets.encrypt(key), key_hint=secrets.hint(key), key_version=1,
        status=ACTIVE, attempts=0, next_attempt_at=now, created_by=by, created_at=now,
        key_changed_by=by, key_changed_at=now)
    try:
        with session.begin_nested():
            session.add(coupling)
            session.flush()
            session.add(m.LvsSender(coupling_id=coupling.id))
            session.flush()
    except IntegrityError:
        raise Conflict(f"the school is already coupled to {NAMES[lvs]}",
                       {"lvs": [f"already coupled to {NAMES[lvs]}"]}) from None
    return view(session, coupling)


def update_lvs_key(session: Session, school_id: str, coupling_id: str, authorisation_key: str, by: str) -> dict:
    """Replace the key; a coupling that was stopped (key rejected) or retrying sends again at once."""
    check_school(school_id)
    _check_by(by)
    key = _load(LvsKeyInput(), {"authorisation_key": authorisation_key})["authorisation_key"]
    coupling = get_coupling(session, school_id, coupling_id, lock=True)
    now = utcnow()
    coupling.key_encrypted, coupling.key_hint = secrets.encrypt(key), secrets.hint(key)
    coupling.key_version += 1
    coupling.key_changed_by, coupling.key_changed_at = by, now
    coupling.status, coupling.attempts, coupling.next_attempt_at, coupling.last_error = ACTIVE, 0, now, None
    session.flush()
    return view(session, coupling)


def remove_lvs_coupling(session: Session, school_id: str, coupling_id: str, by: str) -> None:
    """Stop sending to this LVS; results not yet delivered to it are dropped from its queue."""
    check_school(school_id)
    _check_by(by)
    coupling = get_coupling(session, school_id, coupling_id, lock=True)
    coupling.removed_at, coupling.removed_by = utcnow(), by
    session.execute(delete(m.ResultDelivery).where(m.ResultDelivery.coupling_id == coupling.id,
                                                   m.ResultDelivery.batch_id.is_(None)))
    session.flush()
