"""Results' record of licence couplings, fed by licensing's events."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.results import models as m


def record_coupled(session: Session, event: dict) -> None:
    p = event["payload"]
    if session.get(m.LicenceCouplingRecord, p["coupling_id"]) is None:
        session.add(m.LicenceCouplingRecord(
            coupling_id=p["coupling_id"], school_id=event["school"], licence_id=p["licence_id"], method=p["method"],
            target_kind=p["target_kind"], target_key=p["target_key"], coupled_at=event["occurred_at"]))


def record_decoupled(session: Session, event: dict) -> None:
    p = event["payload"]
    record = session.get(m.LicenceCouplingRecord, p["coupling_id"])
    if record is None:  # decoupled arrived before coupled: keep the ended record
        record_coupled(session, event)
        session.flush()
        record = session.get(m.LicenceCouplingRecord, p["coupling_id"])
    record.ended_at = event["occurred_at"]


def licence_couplings(session: Session, school_id: str) -> list[dict]:
    rows = session.execute(select(m.LicenceCouplingRecord).where(m.LicenceCouplingRecord.school_id == school_id)
                           .order_by(m.LicenceCouplingRecord.coupled_at)).scalars()
    return [{"coupling_id": r.coupling_id, "licence_id": r.licence_id, "method": r.method,
             "target_kind": r.target_kind, "target_key": r.target_key,
             "active": r.ended_at is None} for r in rows]
