"""Reading and writing the roster tables: current state as a snapshot, applying a diff with its event.

Every sync of one school runs under a row lock on that school (`_lock_school`), so an EDEXML
upload, an operator's `koppel roster sync` and the nightly pull never interleave for one school.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import uuid

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.orm import Session

from services.roster import logins
from services.roster import models as m
from services.roster.diff import RosterDiff, diff, removes_too_many_pupils
from services.roster.snapshot import Group, Pupil, RosterSnapshot, SchoolInfo, Staff
from shared import config
from shared.db import bulk_insert
from shared.errors import Conflict, NotFound
from shared.messaging import utcnow

GROUPS, PUPILS, STAFF = m.Group.__table__, m.Pupil.__table__, m.Staff.__table__
CHUNK = 1000  # keys per IN (...) list


def guard_threshold() -> float:
    return config.float_setting("ROSTER_MASS_DELETION_THRESHOLD", 0.30)


SCHOOL_INFO = (m.School.brin, m.School.dependance, m.School.name, m.School.schooljaar, m.School.basispoort_id)


_LOAD_GROUPS = select(GROUPS.c.key, GROUPS.c.name, GROUPS.c.jaargroep, GROUPS.c.composite).where(
    GROUPS.c.school_id == bindparam("school_id"))
_LOAD_PUPILS = select(PUPILS.c.key, PUPILS.c.last_name, PUPILS.c.first_name, PUPILS.c.prefix, PUPILS.c.jaargroep,
                      PUPILS.c.group_key, PUPILS.c.composite_groups, PUPILS.c.eckid).where(
    PUPILS.c.school_id == bindparam("school_id"))
_LOAD_STAFF = select(STAFF.c.key, STAFF.c.last_name, STAFF.c.first_name, STAFF.c.prefix, STAFF.c.email,
                     STAFF.c.roles, STAFF.c.groups, STAFF.c.eckid).where(STAFF.c.school_id == bindparam("school_id"))


RUNS = m.SyncRun.__table__
SCHOOLS = m.School.__table__
# Statements built once (their cache keys too): a nightly sync runs them 7,000 times.
_SUPERSEDE_PENDING = (update(RUNS).where(RUNS.c.school_id == bindparam("p_school_id"), RUNS.c.status == "pending")
                      .values(status="superseded", snapshot=None))
_UPDATE_SCHOOL = (update(SCHOOLS).where(SCHOOLS.c.id == bindparam("p_school_id"))
                  .values(last_sync_at=bindparam("p_now"),
                          name=func.coalesce(bindparam("p_name", type_=SCHOOLS.c.name.type), SCHOOLS.c.name),
                          schooljaar=func.coalesce(bindparam("p_schooljaar", type_=SCHOOLS.c.schooljaar.type),
                                                   SCHOOLS.c.schooljaar),
                          basispoort_id=func.coalesce(bindparam("p_basispoort_id", type_=SCHOOLS.c.basispoort_id.type),
                                                      SCHOOLS.c.basispoort_id),
                          sequence=SCHOOLS.c.sequence + bindparam("p_bump"))
                  .returning(SCHOOLS.c.sequence, SCHOOLS.c.name))
_DELETE_KEYS = {t.name: delete(t).where(t.c.school_id == bindparam("p_school_id"),
                                        t.c.key.in_(bindparam("p_keys", expanding=True)))
                for t in (GROUPS, PUPILS, STAFF)}


def _update_rows(table, columns: tuple[str, ...]):
    return (update(table).where(table.c.school_id == bindparam("b_school_id"), table.c.key == bindparam("b_key"))
            .values({c: bindparam(f"b_{c}") for c in columns}))


_UPDATE_ROWS: dict = {}


def load_snapshot(session: Session, school_id: str, school: tuple | None = None) -> RosterSnapshot | None:
    """What koppel holds for the school, as a snapshot (None if the school is unknown).
    `school` is its SCHOOL_INFO row when the caller already has it."""
    if school is None:
        school = session.execute(select(*SCHOOL_INFO).where(m.School.id == school_id)).first()
    if school is None:
        return None
    snap = RosterSnapshot(SchoolInfo(*school))
    # Core rows through statements built once, not ORM objects: at national scale this is the hot read
    for key, name, jaargroep, composite in session.execute(_LOAD_GROUPS, {"school_id": school_id}):
        snap.groups[key] = Group(key, name, jaargroep, composite)
    for key, last, first, prefix, jaargroep, group, composite, eckid in session.execute(
            _LOAD_PUPILS, {"school_id": school_id}):
        snap.pupils[key] = Pupil(key, last, first, prefix, jaargroep, group, tuple(composite or ()), eckid)
    for key, last, first, prefix, email, roles, groups, eckid in session.execute(
            _LOAD_STAFF, {"school_id": school_id}):
        snap.staff[key] = Staff(key, last, first, prefix, email, tuple(roles or ()), tuple(groups or ()), eckid)
    return snap


def _group_row(school_id: str, g: Group) -> dict:
    return {"school_id": school_id, "key": g.key, "name": g.name, "jaargroep": g.jaargroep, "composite": g.composite}


def _pupil_row(school_id: str, p: Pupil) -> dict:
    return {"school_id": school_id, "key": p.key, "last_name": p.last_name, "first_name": p.first_name,
            "prefix": p.prefix, "jaargroep": p.jaargroep, "group_key": p.group,
            "composite_groups": list(p.composite_groups), "eckid": p.eckid}


def _staff_row(school_id: str, s: Staff) -> dict:
    return {"school_id": school_id, "key": s.key, "last_name": s.last_name, "first_name": s.first_name,
            "prefix": s.prefix, "email": s.email, "roles": list(s.roles), "groups": list(s.groups),
            "eckid": s.eckid, "ict_coordinator": s.is_ict_coordinator}


def _apply_kind(session: Session, table, school_id: str, change, to_row) -> None:
    """Delete, insert and update one kind in bulk: one statement per 1,000 removed keys, one
    multi-row INSERT, one executemany UPDATE (rows keep their identity: no delete + re-insert)."""
    for i in range(0, len(change.removed), CHUNK):
        session.execute(_DELETE_KEYS[table.name], {"p_school_id": school_id, "p_keys": change.removed[i:i + CHUNK]})
    if change.added:
        bulk_insert(session, table, [to_row(school_id, x) for x in change.added])
    if change.changed:
        rows = [to_row(school_id, x) for x in change.changed]
        columns = tuple(c for c in rows[0] if c not in ("school_id", "key"))
        statement = _UPDATE_ROWS.get((table.name, columns))
        if statement is None:
            statement = _UPDATE_ROWS[(table.name, columns)] = _update_rows(table, columns)
        session.connection().execute(statement, [{f"b_{k}": v for k, v in row.items()} for row in rows])


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


def _lock_school(session: Session, info: SchoolInfo, name: str | None) -> tuple:
    """Create the school row if needed and lock it until the transaction ends, in one statement
    (INSERT ... ON CONFLICT DO UPDATE locks the existing row): concurrent syncs of one school (an
    upload during the nightly pull) run one after the other, never interleaved. Returns its SCHOOL_INFO."""
    table = m.School.__table__
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as upsert
    else:
        from sqlalchemy.dialects.sqlite import insert as upsert
    statement = upsert(table).values(
        id=info.school_id, brin=info.brin, dependance=info.dependance,
        name=name or info.name or f"School {info.school_id}", schooljaar=info.schooljaar, sequence=0)
    statement = statement.on_conflict_do_update(index_elements=[table.c.id], set_={"id": statement.excluded.id})
    return session.execute(statement.returning(*SCHOOL_INFO)).one()


def _report(info: SchoolInfo, name: str | None, change: RosterDiff) -> dict:
    return {"school": {"id": info.school_id, "brin": info.brin, "dependance": info.dependance, "name": name},
            "applied": False, "pending_approval": False, "sync_id": None, **change.counts()}


def sync_school(session: Session, snapshot: RosterSnapshot, *, dry_run: bool = False,
                guard: bool = True, name: str | None = None, now: dt.datetime | None = None) -> dict:
    """Compare `snapshot` with the stored school and apply the difference (caller commits).

    Returns the report of the CLI contract (plus `sync_id` and the school's `id`). A sync that
    would remove more than the guard threshold of the school's pupils is stored as pending
    instead (`approve` applies it); a dry run only reports, and also lists the keys (`diff`).
    """
    now = now or utcnow()
    info = snapshot.school
    school_id = info.school_id
    locked = None if dry_run else _lock_school(session, info, name)
    current = load_snapshot(session, school_id, locked)
    change = diff(current, snapshot)
    report = _report(info, name or info.name or (current.school.name if current else None), change)
    if dry_run:
        report["diff"] = {kind: {"added": [x.key for x in getattr(change, kind).added],
                                 "changed": [x.key for x in getattr(change, kind).changed],
                                 "removed": getattr(change, kind).removed} for kind in ("groups", "pupils", "staff")}
        return report
    run = {"id": str(uuid.uuid4()), "school_id": school_id, "source": snapshot.source, "created_at": now,
           "summary": {**change.counts(), "pupils_before": len(current.pupils)}, "applied_at": None,
           "snapshot": None, "error": None}
    report["sync_id"] = run["id"]
    session.execute(_SUPERSEDE_PENDING, {"p_school_id": school_id})
    if guard and removes_too_many_pupils(current, change, guard_threshold()):
        session.execute(insert(RUNS), {**run, "status": "pending", "snapshot": snapshot_to_json(snapshot)})
        report["pending_approval"] = True
        return report
    report["school"]["name"] = _apply(session, snapshot, current, change, name=name, now=now)
    session.execute(insert(RUNS), {**run, "status": "applied", "applied_at": now})
    report["applied"] = True
    return report


def _apply(session: Session, snapshot: RosterSnapshot, current: RosterSnapshot | None,
           change: RosterDiff, *, name: str | None, now: dt.datetime) -> str:
    """Write the difference and its roster.updated event (the school row is locked and exists);
    returns the school's name."""
    info = snapshot.school
    values = {"p_school_id": info.school_id, "p_now": now, "p_name": name or info.name,
              "p_schooljaar": info.schooljaar, "p_basispoort_id": None, "p_bump": 0}
    if info.basispoort_id and (current is None or current.school.basispoort_id != info.basispoort_id):
        # an institution id belongs to one school (unique index); a re-coupled id moves here
        session.execute(update(SCHOOLS).where(SCHOOLS.c.basispoort_id == info.basispoort_id)
                        .values(basispoort_id=None))
        values["p_basispoort_id"] = info.basispoort_id
    if change.is_empty():
        return session.execute(_UPDATE_SCHOOL, values).one().name
    _apply_kind(session, GROUPS, info.school_id, change.groups, _group_row)
    _apply_kind(session, PUPILS, info.school_id, change.pupils, _pupil_row)
    logins.on_roster_applied(session, info.school_id, [p.key for p in change.pupils.added], change.pupils.removed)
    _apply_kind(session, STAFF, info.school_id, change.staff, _staff_row)
    sequence, school_name = session.execute(_UPDATE_SCHOOL, {**values, "p_bump": 1}).one()
    m.messaging.emit(session, "roster.updated", info.school_id, _event_payload(sequence, change))
    return school_name


def approve(session: Session, sync_id: str, school_id: str | None = None, now: dt.datetime | None = None) -> dict:
    """Apply a sync the mass-deletion guard held back, against the state as it is now.

    With `school_id`, a sync of another school answers NotFound, exactly like an unknown id.
    Raises Conflict if the sync is no longer pending (applied, superseded by a newer sync).
    """
    now = now or utcnow()
    owner = session.scalar(select(m.SyncRun.school_id).where(m.SyncRun.id == sync_id))
    if owner is None or (school_id is not None and owner != school_id):
        raise NotFound(f"sync {sync_id} not found")
    # the same lock order as sync_school (school, then its runs): no deadlock with a running sync
    session.execute(select(m.School.id).where(m.School.id == owner).with_for_update())
    run = session.get(m.SyncRun, sync_id, with_for_update=True, populate_existing=True)
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


def record_failed_sync(session: Session, school_id: str, source: str, error: str,
                       now: dt.datetime | None = None) -> str:
    """A pull that could not be applied, kept visible next to the school's other syncs."""
    run = m.SyncRun(id=str(uuid.uuid4()), school_id=school_id, source=source, status="failed",
                    created_at=now or utcnow(), summary={}, error=error[:2000])
    session.add(run)
    return run.id


def school_counts(session: Session, school_id: str) -> dict[str, int]:
    def count(table) -> int:
        return session.scalar(select(func.count()).select_from(table).where(table.c.school_id == school_id))

    return {"groups": count(GROUPS), "pupils": count(PUPILS), "staff": count(STAFF)}
