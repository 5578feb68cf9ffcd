"""The roster's read side: what the gateway shows under Schoolgegevens (seed §3.3).

Every query is scoped to one school; an unknown school answers NotFound. Lists are paginated
(shared.pagination). Membership of composite groups and staff groups are JSON lists on the
row: they are resolved in Python over one school's rows (hundreds, not millions).
"""
from __future__ import annotations

from collections import Counter

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from services.roster import models as m
from services.roster import schemas as s
from services.roster.store import school_counts
from shared.errors import NotFound
from shared.pagination import paginate


def _school(session: Session, school_id: str) -> m.School:
    school = session.get(m.School, school_id)
    if school is None:
        raise NotFound(f"school {school_id} not found")
    return school


def _group_names(session: Session, school_id: str) -> dict[str, str]:
    return dict(session.execute(select(m.Group.key, m.Group.name).where(m.Group.school_id == school_id)).all())


def _pupils_with_group(items, names: dict[str, str]) -> list[dict]:
    data = s.PupilSchema(many=True).dump(items)
    for pupil in data:
        pupil["group_name"] = names.get(pupil["group_key"])
    return data


def _staff_with_groups(items, names: dict[str, str]) -> list[dict]:
    data = s.StaffSchema(many=True).dump(items)
    for member in data:
        member["group_names"] = [names.get(key, key) for key in member["groups"]]
    return data


def school_details(session: Session, school_id: str) -> dict:
    school = _school(session, school_id)
    data = s.SchoolSchema().dump(school)
    data["counts"] = school_counts(session, school_id)
    data["pending_syncs"] = session.scalar(select(func.count()).select_from(m.SyncRun)
                                           .where(m.SyncRun.school_id == school_id, m.SyncRun.status == "pending"))
    return data


def groups(session: Session, school_id: str, page: int = 1, per_page: int = 50) -> dict:
    _school(session, school_id)
    query = (select(m.Group).where(m.Group.school_id == school_id)
             .order_by(m.Group.composite, m.Group.name, m.Group.key))
    items, meta = paginate(session, query, page, per_page)
    pupils, teachers = Counter(), Counter()
    for group_key, composite in session.execute(select(m.Pupil.group_key, m.Pupil.composite_groups)
                                                .where(m.Pupil.school_id == school_id)):
        pupils.update({group_key, *(composite or [])} - {None})
    for (staff_groups,) in session.execute(select(m.Staff.groups).where(m.Staff.school_id == school_id)):
        teachers.update(set(staff_groups or []))
    data = s.GroupSchema(many=True).dump(items)
    for group in data:
        group["pupil_count"] = pupils[group["key"]]
        group["teacher_count"] = teachers[group["key"]]
    return {"items": data, "page": meta}


def group_details(session: Session, school_id: str, group_key: str) -> dict:
    group = session.get(m.Group, (school_id, group_key))
    if group is None:
        raise NotFound(f"group {group_key} not found")
    query = select(m.Pupil).where(m.Pupil.school_id == school_id)
    if not group.composite:
        query = query.where(m.Pupil.group_key == group_key)  # indexed; composite members need the JSON list
    pupils = session.execute(query.order_by(m.Pupil.last_name, m.Pupil.first_name, m.Pupil.key)).scalars()
    members = [p for p in pupils if p.group_key == group_key or group_key in (p.composite_groups or [])]
    teachers = [t for t in session.execute(select(m.Staff).where(m.Staff.school_id == school_id)
                                           .order_by(m.Staff.last_name, m.Staff.key)).scalars()
                if group_key in (t.groups or [])]
    names = _group_names(session, school_id)
    data = s.GroupSchema().dump(group)
    data["teachers"] = _staff_with_groups(teachers, names)
    data["pupils"] = _pupils_with_group(members, names)
    return data


def pupils(session: Session, school_id: str, page: int = 1, per_page: int = 50,
           group_key: str | None = None, search: str | None = None) -> dict:
    _school(session, school_id)
    query = select(m.Pupil).where(m.Pupil.school_id == school_id)
    if group_key:
        query = query.where(m.Pupil.group_key == group_key)
    if search:
        like = f"%{search.strip()}%"
        query = query.where(or_(m.Pupil.last_name.ilike(like), m.Pupil.first_name.ilike(like)))
    query = query.order_by(m.Pupil.last_name, m.Pupil.first_name, m.Pupil.key)
    items, meta = paginate(session, query, page, per_page)
    names = _group_names(session, school_id)
    return {"items": _pupils_with_group(items, names), "page": meta}


def staff(session: Session, school_id: str, page: int = 1, per_page: int = 50, ict_only: bool = False) -> dict:
    _school(session, school_id)
    query = select(m.Staff).where(m.Staff.school_id == school_id)
    if ict_only:
        query = query.where(m.Staff.ict_coordinator.is_(True))
    items, meta = paginate(session, query.order_by(m.Staff.last_name, m.Staff.first_name, m.Staff.key),
                           page, per_page)
    names = _group_names(session, school_id)
    return {"items": _staff_with_groups(items, names), "page": meta}


def memberships(session: Session, email: str) -> list[dict]:
    """The schools a staff member (by school e-mail) belongs to, for "Selecteer school"."""
    rows = session.execute(select(m.Staff, m.School).join(m.School, m.School.id == m.Staff.school_id)
                           .where(m.Staff.email == email.strip().lower()).order_by(m.School.name, m.School.id)).all()
    return s.MembershipSchema(many=True).dump([
        {"school_id": school.id, "school_name": school.name, "staff_key": st.key, "roles": st.roles,
         "is_ict_coordinator": st.ict_coordinator} for st, school in rows])


def pending_syncs(session: Session, school_id: str) -> list[dict]:
    """The school's syncs held by the mass-deletion guard, newest first."""
    _school(session, school_id)
    runs = session.execute(select(m.SyncRun).where(m.SyncRun.school_id == school_id, m.SyncRun.status == "pending")
                           .order_by(m.SyncRun.created_at.desc())).scalars()
    return s.SyncRunSchema(many=True).dump(runs)


def basispoort_identities(session: Session, school_id: str, people: list[dict]) -> dict:
    """The school's Basispoort institution id and the ECK iDs of people ({"kind": pupil|staff, "key"}).

    For pushing rights to Basispoort (licensing asks at push time, so ECK iDs never travel in
    events nor sit in another service's database). Unknown people or people without an ECK iD
    come back with eckid None. ECK iDs are pseudonyms: callers must not log them.
    """
    school = _school(session, school_id)
    keys = {"pupil": {p["key"] for p in people if p["kind"] == "pupil"},
            "staff": {p["key"] for p in people if p["kind"] == "staff"}}
    found = {}
    for kind, model in (("pupil", m.Pupil), ("staff", m.Staff)):
        if keys[kind]:
            rows = session.execute(select(model.key, model.eckid).where(model.school_id == school_id,
                                                                        model.key.in_(keys[kind]))).all()
            found.update({(kind, key): eckid for key, eckid in rows})
    return {"institution_id": school.basispoort_id,
            "people": [{"kind": p["kind"], "key": p["key"], "eckid": found.get((p["kind"], p["key"]))}
                       for p in people]}
