"""The roster's read side: what the gateway shows under Schoolgegevens (seed §3.3)."""
from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from services.roster import models as m
from services.roster import schemas as s
from services.roster.snapshot import ICT_ROLES
from shared.errors import NotFound
from shared.pagination import paginate


def _school(session: Session, school_id: str) -> m.School:
    school = session.get(m.School, school_id)
    if school is None:
        raise NotFound(f"school {school_id} not found")
    return school


def school_details(session: Session, school_id: str) -> dict:
    return s.SchoolSchema().dump(_school(session, school_id))


def groups(session: Session, school_id: str, page: int = 1, per_page: int = 50) -> dict:
    _school(session, school_id)
    query = select(m.Group).where(m.Group.school_id == school_id).order_by(m.Group.composite, m.Group.name)
    items, meta = paginate(session, query, page, per_page)
    return {"items": s.GroupSchema(many=True).dump(items), "page": meta}


def group_details(session: Session, school_id: str, group_key: str) -> dict:
    group = session.get(m.Group, (school_id, group_key))
    if group is None:
        raise NotFound(f"group {group_key} not found")
    pupils = session.execute(select(m.Pupil).where(m.Pupil.school_id == school_id)
                             .order_by(m.Pupil.last_name, m.Pupil.first_name)).scalars()
    members = [p for p in pupils if p.group_key == group_key or group_key in (p.composite_groups or [])]
    teachers = [t for t in session.execute(select(m.Staff).where(m.Staff.school_id == school_id)
                                           .order_by(m.Staff.last_name)).scalars()
                if group_key in (t.groups or [])]
    data = s.GroupSchema().dump(group)
    data["teachers"] = s.StaffSchema(many=True).dump(teachers)
    data["pupils"] = s.PupilSchema(many=True).dump(members)
    return data


def pupils(session: Session, school_id: str, page: int = 1, per_page: int = 50,
           group_key: str | None = None, search: str | None = None) -> dict:
    _school(session, school_id)
    query = select(m.Pupil).where(m.Pupil.school_id == school_id)
    if group_key:
        query = query.where(m.Pupil.group_key == group_key)
    if search:
        like = f"%{search.lower()}%"
        query = query.where(or_(m.Pupil.last_name.ilike(like), m.Pupil.first_name.ilike(like)))
    query = query.order_by(m.Pupil.last_name, m.Pupil.first_name, m.Pupil.key)
    items, meta = paginate(session, query, page, per_page)
    return {"items": s.PupilSchema(many=True).dump(items), "page": meta}


def staff(session: Session, school_id: str, page: int = 1, per_page: int = 50, ict_only: bool = False) -> dict:
    _school(session, school_id)
    query = select(m.Staff).where(m.Staff.school_id == school_id).order_by(m.Staff.last_name, m.Staff.key)
    items = list(session.execute(query).scalars())
    if ict_only:
        items = [x for x in items if any(r in ICT_ROLES for r in x.roles or [])]
    total = len(items)
    start = (page - 1) * per_page
    meta = {"page": page, "per_page": per_page, "total": total, "pages": max(1, -(-total // per_page))}
    return {"items": s.StaffSchema(many=True).dump(items[start:start + per_page]), "page": meta}


def memberships(session: Session, email: str) -> list[dict]:
    """The schools a staff member (by school e-mail) belongs to, for "Selecteer school"."""
    rows = session.execute(select(m.Staff, m.School).join(m.School, m.School.id == m.Staff.school_id)
                           .where(m.Staff.email == email.strip().lower()).order_by(m.School.name)).all()
    return s.MembershipSchema(many=True).dump([
        {"school_id": school.id, "school_name": school.name, "staff_key": st.key, "roles": st.roles,
         "is_ict_coordinator": any(r in ICT_ROLES for r in st.roles or [])} for st, school in rows])


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
