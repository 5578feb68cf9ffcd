"""Licences and couplings: the rules, with their events written to the outbox in the same transaction."""
from __future__ import annotations

import datetime as dt
import uuid

from marshmallow import ValidationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from services.licensing import models as m
from services.licensing.schemas import PRODUCT_TYPES, CouplingSchema, LicenceInput, LicenceSchema
from shared.errors import Conflict, InvalidInput, NotFound
from shared.messaging import utcnow


def _validated(data: dict) -> dict:
    try:
        return LicenceInput().load(data)
    except ValidationError as exc:
        raise InvalidInput("invalid licence", exc.messages_dict) from None


def register_licence(session: Session, data: dict) -> dict:
    """Create or update a licence, idempotent on contract number."""
    values = _validated(data)
    if values.get("isbn"):
        values["isbn"] = values["isbn"].replace("-", "")
    licence = session.execute(select(m.Licence).where(m.Licence.contract_number == values["contract_number"])
                              .with_for_update()).scalar_one_or_none()
    if licence is None:
        licence = m.Licence(id=str(uuid.uuid4()), seats_used=0, **values)
        session.add(licence)
    else:
        if licence.school_id != values["school_id"]:
            raise Conflict(f"contract {values['contract_number']} belongs to another school",
                           {"contract_number": ["belongs to another school"]})
        if values.get("seats") is not None and values["seats"] < licence.seats_used:
            raise Conflict("fewer seats than pupils coupled", {"seats": [f"{licence.seats_used} seats in use"]})
        for name, value in values.items():
            setattr(licence, name, value)
    session.flush()
    return licence_view(licence)


def licence_view(licence: m.Licence, today: dt.date | None = None) -> dict:
    today = today or dt.date.today()
    licence.active = licence.start_date <= today <= licence.end_date
    return LicenceSchema().dump(licence)


def get_licence(session: Session, school_id: str, licence_id: str, *, lock: bool = False) -> m.Licence:
    licence = session.get(m.Licence, licence_id, with_for_update=lock) if _is_uuid(licence_id) else None
    if licence is None or licence.school_id != school_id:
        raise NotFound("licence not found")  # same answer for another school's licence (OWASP API1)
    return licence


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def list_licences(session: Session, school_id: str, kind: str | None = None, active_only: bool = False,
                  today: dt.date | None = None) -> list[dict]:
    today = today or dt.date.today()
    query = select(m.Licence).where(m.Licence.school_id == school_id)
    if kind:
        query = query.where(m.Licence.kind == kind)
    if active_only:
        query = query.where(m.Licence.start_date <= today, m.Licence.end_date >= today)
    rank = {t: i for i, t in enumerate(PRODUCT_TYPES)}
    items = sorted(session.execute(query).scalars(), key=lambda x: (x.method or "", rank.get(x.product_type, 99),
                                                                      x.title, x.contract_number))
    return [licence_view(x, today) for x in items]


def couplings(session: Session, school_id: str, licence_id: str) -> list[dict]:
    get_licence(session, school_id, licence_id)
    rows = session.execute(select(m.Coupling).where(m.Coupling.licence_id == licence_id,
                                                    m.Coupling.ended_at.is_(None))
                           .order_by(m.Coupling.coupled_at)).scalars()
    return CouplingSchema(many=True).dump(rows)


def _event_payload(licence: m.Licence, coupling: m.Coupling, by: str, reason: str) -> dict:
    return {"coupling_id": coupling.id, "licence_id": licence.id, "contract_number": licence.contract_number,
            "method": licence.method, "product_type": licence.product_type,
            "target_kind": coupling.target_kind, "target_key": coupling.target_key, "by": by, "reason": reason}


def _active_coupling(session: Session, licence_id: str, kind: str, key: str) -> m.Coupling | None:
    return session.execute(select(m.Coupling).where(
        m.Coupling.licence_id == licence_id, m.Coupling.target_kind == kind, m.Coupling.target_key == key,
        m.Coupling.ended_at.is_(None))).scalar_one_or_none()


def couple_group(session: Session, school_id: str, licence_id: str, group_key: str, by: str) -> dict:
    """Couple a group licence to a group the roster knows; coupling it twice is a no-op."""
    licence = get_licence(session, school_id, licence_id, lock=True)
    if licence.kind != "group":
        raise InvalidInput("this is a per-child licence", {"licence_id": ["not a group licence"]})
    group = session.get(m.RosterGroup, (school_id, group_key))
    if group is None or group.removed:
        raise NotFound(f"group {group_key} not found", {"group_key": ["unknown group"]})
    existing = _active_coupling(session, licence_id, "group", group_key)
    if existing is not None:
        return CouplingSchema().dump(existing)
    coupling = m.Coupling(id=str(uuid.uuid4()), licence_id=licence_id, school_id=school_id, target_kind="group",
                          target_key=group_key, coupled_by=by, coupled_at=utcnow())
    session.add(coupling)
    session.flush()
    m.messaging.emit(session, "license.coupled", school_id, _event_payload(licence, coupling, by, "by_user"))
    return CouplingSchema().dump(coupling)


def couple_pupil(session: Session, school_id: str, licence_id: str, pupil_key: str, by: str) -> dict:
    """Give a pupil a seat of a per-child licence; refuses when no seats are left.

    The seat is taken by one conditional UPDATE (seats_used < seats), which the database
    serialises per licence row: concurrent requests never oversell.
    """
    licence = get_licence(session, school_id, licence_id)
    if licence.kind != "pupil":
        raise InvalidInput("this is a group licence", {"licence_id": ["not a per-child licence"]})
    pupil = session.get(m.RosterPupil, (school_id, pupil_key))
    if pupil is None or pupil.removed:
        raise NotFound(f"pupil {pupil_key} not found", {"pupil_key": ["unknown pupil"]})
    existing = _active_coupling(session, licence_id, "pupil", pupil_key)
    if existing is not None:
        return CouplingSchema().dump(existing)
    taken = session.execute(update(m.Licence).where(m.Licence.id == licence_id,
                                                    m.Licence.seats_used < m.Licence.seats)
                            .values(seats_used=m.Licence.seats_used + 1)).rowcount
    if taken != 1:
        raise Conflict("no seats available", {"licence_id": ["no seats available"]})
    coupling = m.Coupling(id=str(uuid.uuid4()), licence_id=licence_id, school_id=school_id, target_kind="pupil",
                          target_key=pupil_key, coupled_by=by, coupled_at=utcnow())
    session.add(coupling)
    session.flush()
    m.messaging.emit(session, "license.coupled", school_id, _event_payload(licence, coupling, by, "by_user"))
    return CouplingSchema().dump(coupling)


def end_coupling(session: Session, coupling: m.Coupling, by: str, reason: str) -> None:
    """Decouple (frees the seat of a per-child licence) and emit license.decoupled."""
    licence = session.get(m.Licence, coupling.licence_id)
    coupling.ended_at = utcnow()
    coupling.ended_by = by
    coupling.ended_reason = reason
    if coupling.target_kind == "pupil":
        session.execute(update(m.Licence).where(m.Licence.id == licence.id, m.Licence.seats_used > 0)
                        .values(seats_used=m.Licence.seats_used - 1))
    session.flush()
    m.messaging.emit(session, "license.decoupled", coupling.school_id, _event_payload(licence, coupling, by, reason))


def decouple(session: Session, school_id: str, licence_id: str, coupling_id: str, by: str) -> None:
    get_licence(session, school_id, licence_id)
    coupling = session.get(m.Coupling, coupling_id, with_for_update=True) if _is_uuid(coupling_id) else None
    if coupling is None or coupling.licence_id != licence_id or coupling.school_id != school_id:
        raise NotFound("coupling not found")
    if coupling.ended_at is not None:
        return
    end_coupling(session, coupling, by, "by_user")
