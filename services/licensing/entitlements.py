"""Who may use what now: from the group couplings of a person's groups plus their own seats.

Computed from the current copy of the roster at every question, so a pupil who moved or
joined a coupled group has the new group's products at once, and a moved pupil keeps a seat.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, bindparam, or_, select
from sqlalchemy.orm import Session

from services.licensing import models as m
from services.licensing.licences import PRODUCT_RANK, today
from services.licensing.schemas import PRODUCT_TYPES
from shared.errors import InvalidInput, NotFound

PERSON_KINDS = ("pupil", "staff")


# Statements built once (bound parameters): building them per call and computing their cache keys
# was about a third of a lookup's CPU (bench/bench_licensing.py, profiled).
_PUPIL_GROUPS = select(m.RosterPupil.group_key, m.RosterPupil.composite_groups).where(
    m.RosterPupil.school_id == bindparam("school_id"), m.RosterPupil.key == bindparam("person_key"),
    m.RosterPupil.removed.is_(False))
_STAFF_GROUPS = select(m.RosterStaff.groups).where(
    m.RosterStaff.school_id == bindparam("school_id"), m.RosterStaff.key == bindparam("person_key"),
    m.RosterStaff.removed.is_(False))


def person_groups(session: Session, school_id: str, person_kind: str, person_key: str) -> list[str]:
    """A pupil's group and composite groups, or a teacher's groups; NotFound for an unknown person."""
    if person_kind not in PERSON_KINDS:
        raise InvalidInput("unknown person kind", {"person_kind": [f"one of {', '.join(PERSON_KINDS)}"]})
    query = _PUPIL_GROUPS if person_kind == "pupil" else _STAFF_GROUPS
    # columns, not an ORM object: this sits on the hot path
    row = session.execute(query, {"school_id": school_id, "person_key": person_key}).first()
    if row is None:
        raise NotFound(f"{person_kind} {person_key} not found", {"person_key": [f"unknown {person_kind}"]})
    if person_kind == "pupil":
        return [g for g in [row.group_key, *(row.composite_groups or [])] if g]
    return list(row.groups or [])


LICENCE_COLUMNS = (m.Licence.id, m.Licence.contract_number, m.Licence.title, m.Licence.method,
                   m.Licence.product_type, m.Licence.article_number, m.Licence.isbn, m.Licence.licence_type,
                   m.Licence.end_date)


def _couplings_statement(with_groups: bool, with_pupil: bool):
    targets = []
    if with_groups:
        targets.append(and_(m.Coupling.target_kind == "group",
                            m.Coupling.target_key.in_(bindparam("groups", expanding=True))))
    if with_pupil:
        targets.append(and_(m.Coupling.target_kind == "pupil", m.Coupling.target_key == bindparam("pupil_key")))
    return (select(*LICENCE_COLUMNS, m.Coupling.target_kind, m.Coupling.target_key)
            .join(m.Coupling, m.Coupling.licence_id == m.Licence.id)
            .where(m.Coupling.school_id == bindparam("school_id"), m.Coupling.ended_at.is_(None), or_(*targets),
                   m.Licence.start_date <= bindparam("on"), m.Licence.end_date >= bindparam("on")))


_COUPLINGS = {(g, p): _couplings_statement(g, p) for g, p in ((True, True), (True, False), (False, True))}


def _active_couplings(session: Session, school_id: str, groups: list[str], pupil_key: str | None, on: dt.date):
    """(licence columns..., target_kind, target_key) of active couplings on these groups / this pupil."""
    if not groups and pupil_key is None:
        return []
    params = {"school_id": school_id, "on": on}
    if groups:
        params["groups"] = list(groups)
    if pupil_key is not None:
        params["pupil_key"] = pupil_key
    return session.execute(_COUPLINGS[(bool(groups), pupil_key is not None)], params).all()


def _order(row) -> tuple:
    return (row.method or "", PRODUCT_RANK.get(row.product_type, 99), row.title, row.contract_number)


def entitlements(session: Session, school_id: str, person_kind: str, person_key: str,
                 on: dt.date | None = None) -> list[dict]:
    """The products ("pupil" or "staff") person may use today, one entry per licence, with why.

    `via` lists the group couplings ({"kind": "group", "key": ...}) and own seat ({"kind": "seat"})
    that give it. Only licences active today count. NotFound for an unknown person.
    """
    groups = person_groups(session, school_id, person_kind, person_key)
    rows = _active_couplings(session, school_id, groups, person_key if person_kind == "pupil" else None,
                             on or today())
    by_licence: dict[str, tuple] = {}
    for row in rows:
        via = by_licence.setdefault(row.id, (row, []))[1]
        via.append({"kind": "group", "key": row.target_key} if row.target_kind == "group" else {"kind": "seat"})
    return [{"licence_id": lic.id, "contract_number": lic.contract_number, "title": lic.title,
             "method": lic.method, "product_type": lic.product_type, "article_number": lic.article_number,
             "isbn": lic.isbn, "end_date": lic.end_date.isoformat(),
             "via": sorted(via, key=lambda v: (v["kind"], v.get("key", "")))}
            for lic, via in sorted(by_licence.values(), key=lambda item: _order(item[0]))]


def teacher_start_page(session: Session, school_id: str, staff_key: str, on: dt.date | None = None) -> list[dict]:
    """Per method, the active licences of the teacher's groups, grouped by product type in the seed's order.

    [{"method": ..., "product_types": [{"product_type": ..., "licences": [{..., "groups": [...]}]}]}]
    """
    groups = person_groups(session, school_id, "staff", staff_key)
    rows = _active_couplings(session, school_id, groups, None, on or today())
    names = dict(session.execute(select(m.RosterGroup.key, m.RosterGroup.name).where(
        m.RosterGroup.school_id == school_id, m.RosterGroup.key.in_(groups))).all()) if groups else {}
    licences: dict[str, tuple] = {}
    for row in rows:
        licences.setdefault(row.id, (row, []))[1].append(row.target_key)
    methods: dict[str | None, dict[str, list[dict]]] = {}
    for licence, keys in sorted(licences.values(), key=lambda item: _order(item[0])):
        methods.setdefault(licence.method, {}).setdefault(licence.product_type, []).append({
            "licence_id": licence.id, "contract_number": licence.contract_number, "title": licence.title,
            "licence_type": licence.licence_type, "end_date": licence.end_date.isoformat(),
            "groups": [{"key": k, "name": names.get(k, k)} for k in sorted(keys, key=lambda k: names.get(k, k))]})
    return [{"method": method,
             "product_types": [{"product_type": t, "licences": per_type[t]}
                               for t in sorted(per_type, key=lambda t: PRODUCT_RANK.get(t, len(PRODUCT_TYPES)))]}
            for method, per_type in sorted(methods.items(), key=lambda item: (item[0] is None, item[0] or ""))]
