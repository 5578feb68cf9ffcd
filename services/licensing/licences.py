"""Licences and couplings: the rules, with their events written to the outbox in the same transaction."""
from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

from marshmallow import ValidationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from services.licensing import models as m
from services.licensing.schemas import PRODUCT_TYPES, CouplingSchema, LicenceInput, LicenceSchema
from shared.db import insert_or_ignore
from shared.errors import Conflict, InvalidInput, NotFound
from shared.messaging import utcnow

SCHOOL_TIME = ZoneInfo("Europe/Amsterdam")
KINDS = ("group", "pupil")
PRODUCT_RANK = {t: i for i, t in enumerate(PRODUCT_TYPES)}


def today() -> dt.date:
    """The schools' calendar day: a licence ending on 31-12 is active until midnight in the Netherlands."""
    return dt.datetime.now(SCHOOL_TIME).date()


def is_active(licence: m.Licence, on: dt.date) -> bool:
    return licence.start_date <= on <= licence.end_date


def validated(data: dict) -> dict:
    """LicenceInput loaded, ISBN normalised; raises InvalidInput with the fields that are wrong."""
    try:
        values = LicenceInput().load(data)
    except ValidationError as exc:
        raise InvalidInput("invalid licence", exc.messages_dict) from None
    if values.get("isbn"):
        values["isbn"] = values["isbn"].replace("-", "")
    return values


def upsert_licence(session: Session, values: dict) -> tuple[m.Licence, str]:
    """Create or update a validated licence by contract number; returns it and created|updated|unchanged.

    The row is locked, so a concurrent coupling cannot slip under a seat reduction.
    """
    licence = session.execute(select(m.Licence).where(m.Licence.contract_number == values["contract_number"])
                              .with_for_update()).scalar_one_or_none()
    if licence is None:
        licence = m.Licence(id=str(uuid.uuid4()), seats_used=0, **values)
        session.add(licence)
        session.flush()
        return licence, "created"
    if licence.school_id != values["school_id"]:
        raise Conflict(f"contract {values['contract_number']} belongs to another school",
                       {"contract_number": ["belongs to another school"]})
    if values["kind"] != licence.kind and _has_active_couplings(session, licence.id):
        raise Conflict("cannot change the kind of a licence that is coupled",
                       {"kind": [f"licence is coupled as {licence.kind}; decouple first"]})
    if values.get("seats") is not None and values["seats"] < licence.seats_used:
        raise Conflict("fewer seats than pupils coupled", {"seats": [f"{licence.seats_used} seats in use"]})
    changed = False
    for name, value in values.items():
        if getattr(licence, name) != value:
            setattr(licence, name, value)
            changed = True
    session.flush()
    return licence, "updated" if changed else "unchanged"


def register_licence(session: Session, data: dict) -> dict:
    """Create or update a licence, idempotent on contract number."""
    licence, _ = upsert_licence(session, validated(data))
    return licence_view(licence)


def _has_active_couplings(session: Session, licence_id: str) -> bool:
    return session.execute(select(m.Coupling.id).where(m.Coupling.licence_id == licence_id,
                                                       m.Coupling.ended_at.is_(None)).limit(1)).first() is not None


def licence_view(licence: m.Licence, on: dt.date | None = None) -> dict:
    view = LicenceSchema().dump(licence)
    view["active"] = is_active(licence, on or today())
    return view


def get_licence(session: Session, school_id: str, licence_id: str) -> m.Licence:
    licence = session.get(m.Licence, licence_id) if _is_uuid(licence_id) else None
    if licence is None or licence.school_id != school_id:
        raise NotFound("licence not found")  # same answer for another school's licence (OWASP API1)
    return licence


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def sort_key(licence: m.Licence) -> tuple:
    return (licence.method or "", PRODUCT_RANK.get(licence.product_type, 99), licence.title, licence.contract_number)


def list_licences(session: Session, school_id: str, kind: str | None = None, active_only: bool = False,
                  on: dt.date | None = None) -> list[dict]:
    """The school's licences ("Licenties per groep" with kind=group, "per kind" with kind=pupil).

    active_only is "Toon alleen actieve licenties": today between start and end date.
    Group licences carry their coupled groups; per-child licences their seats used and available.
    """
    if kind is not None and kind not in KINDS:
        raise InvalidInput("unknown licence kind", {"kind": [f"one of {', '.join(KINDS)}"]})
    on = on or today()
    query = select(m.Licence).where(m.Licence.school_id == school_id)
    if kind:
        query = query.where(m.Licence.kind == kind)
    if active_only:
        query = query.where(m.Licence.start_date <= on, m.Licence.end_date >= on)
    items = sorted(session.execute(query).scalars(), key=sort_key)
    groups = _coupled_groups(session, school_id, [x.id for x in items if x.kind == "group"])
    views = []
    for licence in items:
        view = licence_view(licence, on)
        if licence.kind == "group":
            view["coupled_groups"] = groups.get(licence.id, [])
        views.append(view)
    return views


def _coupled_groups(session: Session, school_id: str, licence_ids: list[str]) -> dict[str, list[dict]]:
    if not licence_ids:
        return {}
    rows = session.execute(
        select(m.Coupling.licence_id, m.Coupling.target_key, m.RosterGroup.name)
        .outerjoin(m.RosterGroup, (m.RosterGroup.school_id == m.Coupling.school_id)
                   & (m.RosterGroup.key == m.Coupling.target_key))
        .where(m.Coupling.school_id == school_id, m.Coupling.target_kind == "group",
               m.Coupling.ended_at.is_(None), m.Coupling.licence_id.in_(licence_ids))
        .order_by(m.RosterGroup.name, m.Coupling.target_key)).all()
    out: dict[str, list[dict]] = {}
    for licence_id, key, name in rows:
        out.setdefault(licence_id, []).append({"key": key, "name": name or key})
    return out


def couplings(session: Session, school_id: str, licence_id: str) -> list[dict]:
    """Active couplings of a licence: a group's name, or a pupil's key and current group."""
    get_licence(session, school_id, licence_id)
    rows = session.execute(select(m.Coupling).where(m.Coupling.licence_id == licence_id,
                                                    m.Coupling.ended_at.is_(None))
                           .order_by(m.Coupling.coupled_at)).scalars().all()
    views = CouplingSchema(many=True).dump(rows)
    group_keys = {c.target_key for c in rows if c.target_kind == "group"}
    pupil_keys = {c.target_key for c in rows if c.target_kind == "pupil"}
    names = dict(session.execute(select(m.RosterGroup.key, m.RosterGroup.name).where(
        m.RosterGroup.school_id == school_id, m.RosterGroup.key.in_(group_keys))).all()) if group_keys else {}
    pupil_groups = dict(session.execute(select(m.RosterPupil.key, m.RosterPupil.group_key).where(
        m.RosterPupil.school_id == school_id, m.RosterPupil.key.in_(pupil_keys))).all()) if pupil_keys else {}
    for view in views:
        if view["target_kind"] == "group":
            view["group_name"] = names.get(view["target_key"], view["target_key"])
        else:
            view["group_key"] = pupil_groups.get(view["target_key"])
    return views


def _decoupled_event(licence: m.Licence, coupling: m.Coupling, by: str, reason: str) -> dict:
    return {"coupling_id": coupling.id, "licence_id": licence.id, "contract_number": licence.contract_number,
            "method": licence.method, "product_type": licence.product_type,
            "target_kind": coupling.target_kind, "target_key": coupling.target_key, "by": by, "reason": reason}


def _active_coupling(session: Session, licence_id: str, kind: str, key: str) -> m.Coupling:
    return session.execute(select(m.Coupling).where(
        m.Coupling.licence_id == licence_id, m.Coupling.target_kind == kind, m.Coupling.target_key == key,
        m.Coupling.ended_at.is_(None))).scalar_one()


def _couplable(session: Session, school_id: str, licence_id: str, kind: str) -> m.Licence:
    licence = get_licence(session, school_id, licence_id)
    if licence.kind != kind:
        wanted = "group licence" if kind == "group" else "per-child licence"
        raise InvalidInput(f"this is not a {wanted}", {"licence_id": [f"not a {wanted}"]})
    if licence.end_date < today():
        raise Conflict("this licence has ended", {"licence_id": [f"ended on {licence.end_date.isoformat()}"]})
    return licence


def _insert_coupling(session: Session, licence: m.Licence, kind: str, key: str, by: str) -> dict | None:
    """Insert the active coupling unless one exists; returns its view, None when it existed already.

    ON CONFLICT DO NOTHING (the partial unique index on active couplings decides) makes a
    concurrent request for the same target wait for the first one's commit and then see its
    coupling, instead of failing with a unique violation.
    """
    row = {"id": str(uuid.uuid4()), "licence_id": licence.id, "school_id": licence.school_id, "target_kind": kind,
           "target_key": key, "coupled_by": by, "coupled_at": utcnow()}
    if not insert_or_ignore(session, m.Coupling.__table__, row):
        return None
    return {**{k: row[k] for k in ("id", "licence_id", "target_kind", "target_key", "coupled_by")},
            "coupled_at": row["coupled_at"].isoformat(), "ended_at": None, "ended_reason": None}


def _coupled_event(licence: m.Licence, coupling: dict, by: str) -> dict:
    return {"coupling_id": coupling["id"], "licence_id": licence.id, "contract_number": licence.contract_number,
            "method": licence.method, "product_type": licence.product_type, "target_kind": coupling["target_kind"],
            "target_key": coupling["target_key"], "by": by, "reason": "by_user"}


def _known(session: Session, model, school_id: str, key: str) -> bool:
    return session.execute(select(model.key).where(model.school_id == school_id, model.key == key,
                                                   model.removed.is_(False))).first() is not None


def couple_group(session: Session, school_id: str, licence_id: str, group_key: str, by: str) -> dict:
    """Couple a group licence to a group the roster knows; coupling it twice is a no-op.

    Returns the coupling. NotFound for an unknown group, InvalidInput for a per-child licence,
    Conflict for a licence that has ended.
    """
    licence = _couplable(session, school_id, licence_id, "group")
    if not _known(session, m.RosterGroup, school_id, group_key):
        raise NotFound(f"group {group_key} not found", {"group_key": ["unknown group"]})
    coupling = _insert_coupling(session, licence, "group", group_key, by)
    if coupling is None:
        return CouplingSchema().dump(_active_coupling(session, licence_id, "group", group_key))
    m.messaging.emit(session, "license.coupled", school_id, _coupled_event(licence, coupling, by))
    return coupling


def couple_pupil(session: Session, school_id: str, licence_id: str, pupil_key: str, by: str) -> dict:
    """Give a pupil a seat of a per-child licence; coupling the same pupil twice is a no-op.

    Raises Conflict "no seats available" when the seats have run out. The seat is taken by one
    conditional UPDATE (seats_used < seats): PostgreSQL serialises the UPDATEs on the licence row,
    so concurrent requests in any number of processes never oversell. It is the last statement
    before the commit, so the row lock that serialises them is held as briefly as possible.
    """
    licence = _couplable(session, school_id, licence_id, "pupil")
    if not _known(session, m.RosterPupil, school_id, pupil_key):
        raise NotFound(f"pupil {pupil_key} not found", {"pupil_key": ["unknown pupil"]})
    coupling = _insert_coupling(session, licence, "pupil", pupil_key, by)
    if coupling is None:
        return CouplingSchema().dump(_active_coupling(session, licence_id, "pupil", pupil_key))
    m.messaging.emit(session, "license.coupled", school_id, _coupled_event(licence, coupling, by))
    taken = session.execute(update(m.Licence).where(m.Licence.id == licence_id,
                                                    m.Licence.seats_used < m.Licence.seats)
                            .values(seats_used=m.Licence.seats_used + 1)
                            .execution_options(synchronize_session=False)).rowcount
    if taken != 1:
        # the caller's transaction rolls back: the coupling row and its event go with it
        raise Conflict("no seats available", {"licence_id": ["no seats available"]})
    return coupling


def end_coupling(session: Session, coupling_id: str, by: str, reason: str) -> bool:
    """Decouple (frees the seat of a per-child licence) and emit license.decoupled; False if already ended.

    One conditional UPDATE ends it, so a user's decoupling racing the roster's cannot free a seat twice.
    """
    now = utcnow()
    ended = session.execute(update(m.Coupling).where(m.Coupling.id == coupling_id, m.Coupling.ended_at.is_(None))
                            .values(ended_at=now, ended_by=by, ended_reason=reason)).rowcount
    if ended != 1:
        return False
    coupling = session.get(m.Coupling, coupling_id, populate_existing=True)
    if coupling.target_kind == "pupil":
        session.execute(update(m.Licence).where(m.Licence.id == coupling.licence_id, m.Licence.seats_used > 0)
                        .values(seats_used=m.Licence.seats_used - 1))
    licence = session.get(m.Licence, coupling.licence_id)
    m.messaging.emit(session, "license.decoupled", coupling.school_id, _decoupled_event(licence, coupling, by, reason))
    return True


def decouple(session: Session, school_id: str, licence_id: str, coupling_id: str, by: str) -> None:
    """"Ontkoppelen": end a coupling of this licence; ending an ended one is a no-op. NotFound otherwise."""
    get_licence(session, school_id, licence_id)
    coupling = session.get(m.Coupling, coupling_id) if _is_uuid(coupling_id) else None
    if coupling is None or coupling.licence_id != licence_id or coupling.school_id != school_id:
        raise NotFound("coupling not found")
    end_coupling(session, coupling_id, by, "by_user")


def end_target_couplings(session: Session, school_id: str, kind: str, keys: list[str], reason: str) -> int:
    """End every active coupling of these groups or pupils (roster reactions); returns how many."""
    if not keys:
        return 0
    ids = session.execute(select(m.Coupling.id).where(
        m.Coupling.school_id == school_id, m.Coupling.target_kind == kind, m.Coupling.target_key.in_(keys),
        m.Coupling.ended_at.is_(None)).order_by(m.Coupling.coupled_at)).scalars().all()
    return sum(end_coupling(session, cid, "roster", reason) for cid in ids)
