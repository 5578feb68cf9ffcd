"""Reading and writing the roster tables: current state as a snapshot, applying a diff with its event."""
from __future__ import annotations

import dataclasses
import datetime as dt
import uuid

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from services.roster import logins
from services.roster import models as m
from services.roster.diff import RosterDiff, diff, removes_too_many_pupils
from services.roster.snapshot import Group, Pupil, RosterSnapshot, SchoolInfo, Staff
from shared import config
from shared.errors import Conflict, NotFound
from shared.messaging import utcnow


def guard_threshold() -> float:
    return config.float_setting("ROSTER_MASS_DELETION_THRESHOLD", 0.30)


def load_snapshot(session: Session, school_id: str) -> RosterSnapshot | None:
    school = session.get(m.School, school_id)
    if school is None:
        return None
    snap = RosterSnapshot(SchoolInfo(school.brin, school.dependance, school.name, school.schooljaar))
    for g in session.execute(select(m.Group).where(m.Group.school_id == school_id)).scalars():
        snap.groups[g.key] = Group(g.key, g.name, g.jaargroep, g.composite)
    for p in session.execute(select(m.Pupil).where(m.Pupil.school_id == school_id)).scalars():
        snap.pupils[p.key] = Pupil(p.key, p.last_name, p.first_name, p.prefix, p.jaargroep, p.group_key,
                                   tuple(p.composite_groups or ()), p.eckid)
    for s in session.execute(select(m.Staff).where(m.Staff.school_id == school_id)).scalars():
        snap.staff[s.key] = Staff(s.key, s.last_name, s.first_name, s.prefix, s.email,
                                  tuple(s.roles or ()), tuple(s.groups or ()), s.eckid)
    return snap


def _group_row(school_id: str, g: Group) -> dict:
    return {"school_id": school_id, "key": g.key, "name": g.name, "jaargroep": g.jaargroep, "composite": g.composite}


def _pupil_row(school_id: str, p: Pupil) -> dict:
    return {"school_id": school_id, "key": p.key, "last_name": p.last_name, "first_name": p.first_name,
            "prefix": p.prefix, "jaargroep": p.jaargroep, "group_key": p.group,
            "composite_groups": list(p.composite_groups), "eckid": p.eckid}


def _staff_row(school_id: str, s: Staff) -> dict:
    return {"school_id": school_id, "key": s.key, "last_name": s.last_name, "first_name": s.first_name,
            "prefix": s.prefix, "email": s.email, "roles": list(s.roles), "groups": list(s.groups), "eckid": s.eckid}


def _apply_kind(session: Session, table, school_id: str, change, to_row) -> None:
    if change.removed:
        keys = list(change.removed)
        for i in range(0, len(keys), 1000):
            session.execute(delete(table).where(table.c.school_id == school_id, table.c.key.in_(keys[i:i + 1000])))
    if change.added:
        session.execute(insert(table), [to_row(school_id, x) for x in change.added])
    for item in change.changed:
        row = to_row(school_id, item)
        session.execute(update(table).where(table.c.school_id == school_id, table.c.key == item.key)
                        .values(**{k: v for k, v in row.items() if k not in ("school_id", "key")}))


def _event_payload(sequence: int, change: RosterDiff) -> dict:
    def groups(items):
        return [{"key": g.key, "name": g.name, "jaargroep": g.jaargroep, "composite": g.composite} for g in items]

    def pupils(items):
        return [{"key": p.key, "group": p.group, "composite_groups": list(p.composite_groups),
                 "jaargroep": p.jaargroep} for p in items]

    def staff(items):
        return [{"key": s.key, "groups": list(s.groups), "roles": list(s.roles)} for s in items]

    return {
        "sequence": sequence,
        "groups": {"added": groups(change.groups.added), "changed": groups(change.groups.changed),
                   "removed": change.groups.removed},
        "pupils": {"added": pupils(change.pupils.added), "changed": pupils(change.pupils.changed),
                   "removed": change.pupils.removed},
        "staff": {"added": staff(change.staff.added), "changed": staff(change.staff.changed),
                  "removed": change.staff.removed},
    }


def snapshot_to_json(snap: RosterSnapshot) -> dict:
    return dataclasses.asdict(snap)


def snapshot_from_json(data: dict) -> RosterSnapshot:
    def tup(d, *names):
        return {k: (tuple(v) if k in names else v) for k, v in d.items()}

    return RosterSnapshot(
        school=SchoolInfo(**data["school"]),
        groups={k: Group(**v) for k, v in data["groups"].items()},
        pupils={k: Pupil(**tup(v, "composite_groups")) for k, v in data["pupils"].items()},
        staff={k: Staff(**tup(v, "roles", "groups")) for k, v in data["staff"].items()},
        source=data.get("source", "edexml"),
    )


def sync_school(session: Session, snapshot: RosterSnapshot, *, dry_run: bool = False,
                guard: bool = True, name: str | None = None, now: dt.datetime | None = None) -> dict:
    """Compare `snapshot` with the stored school and apply the difference (caller commits).

    Returns the report of the CLI contract. A sync that would remove more than the guard
    threshold of the school's pupils is stored as pending instead (`approve` applies it).
    """
    now = now or utcnow()
    info = snapshot.school
    school_id = info.school_id
    current = load_snapshot(session, school_id)
    change = diff(current, snapshot)
    report = {"school": {"id": school_id, "brin": info.brin, "dependance": info.dependance,
                         "name": name or info.name or (current.school.name if current else None)},
              "applied": False, "pending_approval": False, "sync_id": None, **change.counts()}
    if dry_run:
        report["diff"] = {kind: {"added": [x.key for x in getattr(change, kind).added],
                                 "changed": [x.key for x in getattr(change, kind).changed],
                                 "removed": getattr(change, kind).removed} for kind in ("groups", "pupils", "staff")}
        return report
    run = m.SyncRun(id=str(uuid.uuid4()), school_id=school_id, source=snapshot.source, created_at=now,
                    summary=change.counts())
    report["sync_id"] = run.id
    session.execute(update(m.SyncRun).where(m.SyncRun.school_id == school_id, m.SyncRun.status == "pending")
                    .values(status="superseded", snapshot=None))
    if guard and removes_too_many_pupils(current, change, guard_threshold()):
        run.status = "pending"
        run.snapshot = snapshot_to_json(snapshot)
        session.add(run)
        report["pending_approval"] = True
        return report
    _apply(session, snapshot, current, change, name=name, now=now)
    run.status = "applied"
    run.applied_at = now
    session.add(run)
    report["applied"] = True
    return report


def _apply(session: Session, snapshot: RosterSnapshot, current: RosterSnapshot | None,
           change: RosterDiff, *, name: str | None, now: dt.datetime) -> None:
    info = snapshot.school
    school = session.get(m.School, info.school_id)
    if school is None:
        school = m.School(id=info.school_id, brin=info.brin, dependance=info.dependance,
                          name=name or info.name or f"School {info.school_id}", sequence=0)
        session.add(school)
        session.flush()
    elif name or info.name:
        school.name = name or info.name
    school.schooljaar = info.schooljaar or school.schooljaar
    school.last_sync_at = now
    if change.is_empty():
        return
    _apply_kind(session, m.Group.__table__, info.school_id, change.groups, _group_row)
    _apply_kind(session, m.Pupil.__table__, info.school_id, change.pupils, _pupil_row)
    logins.on_roster_applied(session, info.school_id, [p.key for p in change.pupils.added], change.pupils.removed)
    _apply_kind(session, m.Staff.__table__, info.school_id, change.staff, _staff_row)
    school.sequence += 1
    m.messaging.emit(session, "roster.updated", info.school_id, _event_payload(school.sequence, change))


def approve(session: Session, sync_id: str, now: dt.datetime | None = None) -> dict:
    """Apply a sync the mass-deletion guard held back, against the state as it is now."""
    now = now or utcnow()
    run = session.get(m.SyncRun, sync_id, with_for_update=True)
    if run is None:
        raise NotFound(f"sync {sync_id} not found")
    if run.status != "pending":
        raise Conflict(f"sync {sync_id} is {run.status}, not pending")
    snapshot = snapshot_from_json(run.snapshot)
    current = load_snapshot(session, run.school_id)
    change = diff(current, snapshot)
    _apply(session, snapshot, current, change, name=None, now=now)
    run.status = "approved"
    run.applied_at = now
    run.snapshot = None
    return {"sync_id": sync_id, "school": run.school_id, "applied": True, **change.counts()}

