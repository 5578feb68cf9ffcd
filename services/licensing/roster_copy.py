"""Licensing's own copy of the roster, kept from roster.updated events.

Events may arrive out of order (several relays, several consumers): each row keeps the
roster `sequence` of the state it holds and is only overwritten by a newer one; removals
leave a tombstone so an older 'added' cannot bring a row back.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.licensing import models as m
from shared.db import insert_or_ignore
from shared.errors import NotFound


def _upsert(session: Session, model, school_id: str, key: str, sequence: int, values: dict, removed: bool) -> bool:
    """Hold the state of `sequence` for this row unless a newer one is held; True if it changed."""
    if insert_or_ignore(session, model.__table__, {"school_id": school_id, "key": key, "sequence": sequence,
                                                   "removed": removed, **_defaults(model), **values}):
        return True
    row = session.get(model, (school_id, key), with_for_update=True, populate_existing=True)
    if row.sequence >= sequence:
        return False
    row.sequence = sequence
    row.removed = removed
    for name, value in values.items():
        setattr(row, name, value)
    session.flush()
    return True


def _defaults(model) -> dict:
    return {"name": ""} if model is m.RosterGroup else {}


def apply_roster_updated(session: Session, event: dict) -> dict[str, list[str]]:
    """Apply one roster.updated; returns the keys that were really removed now (for reactions)."""
    school, payload = event["school"], event["payload"]
    seq = payload["sequence"]
    removed: dict[str, list[str]] = {"groups": [], "pupils": [], "staff": []}
    for g in payload["groups"]["added"] + payload["groups"]["changed"]:
        _upsert(session, m.RosterGroup, school, g["key"], seq,
                {"name": g["name"], "jaargroep": g["jaargroep"], "composite": g["composite"]}, False)
    for p in payload["pupils"]["added"] + payload["pupils"]["changed"]:
        _upsert(session, m.RosterPupil, school, p["key"], seq,
                {"group_key": p["group"], "composite_groups": p["composite_groups"]}, False)
    for s in payload["staff"]["added"] + payload["staff"]["changed"]:
        _upsert(session, m.RosterStaff, school, s["key"], seq, {"groups": s["groups"], "roles": s["roles"]}, False)
    for kind, model in (("groups", m.RosterGroup), ("pupils", m.RosterPupil), ("staff", m.RosterStaff)):
        for key in payload[kind]["removed"]:
            if _upsert(session, model, school, key, seq, {}, True):
                removed[kind].append(key)
    return removed


def known_groups(session: Session, school_id: str) -> list[dict]:
    rows = session.execute(select(m.RosterGroup).where(m.RosterGroup.school_id == school_id,
                                                       m.RosterGroup.removed.is_(False))
                           .order_by(m.RosterGroup.composite, m.RosterGroup.name)).scalars()
    return [{"key": g.key, "name": g.name, "jaargroep": g.jaargroep, "composite": g.composite} for g in rows]


def known_pupils(session: Session, school_id: str, group_key: str) -> list[dict]:
    """The pupils licensing knows in a group (as their group or one of their composite groups).

    Keys and group only: names stay with the roster service ("Kies een leerling" takes them from there).
    NotFound for a group licensing does not know.
    """
    group = session.get(m.RosterGroup, (school_id, group_key))
    if group is None or group.removed:
        raise NotFound(f"group {group_key} not found", {"group_key": ["unknown group"]})
    return [{"key": key, "group": group} for key, group in group_members(session, school_id, group_key)]


def group_members(session: Session, school_id: str, group_key: str) -> list[tuple[str, str | None]]:
    """(pupil key, own group) of the pupils in a group or composite group, by key.

    Composite memberships sit in a JSON list, so they are matched here rather than in SQL;
    a school has hundreds of pupils, not millions.
    """
    rows = session.execute(select(m.RosterPupil.key, m.RosterPupil.group_key, m.RosterPupil.composite_groups)
                           .where(m.RosterPupil.school_id == school_id, m.RosterPupil.removed.is_(False))
                           .order_by(m.RosterPupil.key)).all()
    return [(key, own) for key, own, composite in rows if own == group_key or group_key in (composite or [])]


def group_staff(session: Session, school_id: str, group_key: str) -> list[str]:
    rows = session.execute(select(m.RosterStaff.key, m.RosterStaff.groups)
                           .where(m.RosterStaff.school_id == school_id, m.RosterStaff.removed.is_(False))
                           .order_by(m.RosterStaff.key)).all()
    return [key for key, groups in rows if group_key in (groups or [])]
