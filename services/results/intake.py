"""Intake of results from the learning app: keep practice results for export, drop the rest.

A practice result is stored only when it can leave: the school has given consent and has at
least one LVS coupling. It is then owed to every live coupling of the school (one tracking row
each), so a coupling receives the results recorded after it was added. Test results are never
stored (seed §5: only practice results go to the LVS).
"""
from __future__ import annotations

from marshmallow import ValidationError
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from services.results import models as m
from services.results.consent import consent_given
from services.results.schemas import ResultInput
from shared.errors import InvalidInput
from shared.messaging import utcnow

STORED_FIELDS = ("result_key", "pupil_key", "eckid", "method", "exercise_code", "exercise_name", "score", "taken_on")


def validated(data: dict) -> dict:
    """RPC input through the same contract as the `result.recorded` event; InvalidInput per field."""
    try:
        return ResultInput().load(data if isinstance(data, dict) else {})
    except ValidationError as exc:
        raise InvalidInput("invalid result", exc.messages_dict) from None


def _insert_ignoring_duplicates(session: Session, rows: list[dict]) -> dict[str, int]:
    """Insert results, skipping keys the school already has; returns {result_key: id} of new rows."""
    if session.bind.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    table = m.PracticeResult.__table__
    stmt = (dialect_insert(table).on_conflict_do_nothing(index_elements=["school_id", "result_key"])
            .returning(table.c.id, table.c.result_key))
    return {key: id_ for id_, key in session.execute(stmt, rows).all()}


def record_results(session: Session, school_id: str, results: list[dict]) -> list[dict]:
    """Record loaded results of one school; per result `{"result_key", "stored", "reason"}` where
    reason is None (queued for export) or one of test_result, no_consent, no_lvs_coupling, duplicate."""
    outcomes = {r["result_key"]: None for r in results}
    practice = [r for r in results if r["kind"] == "practice"]
    for r in results:
        if r["kind"] != "practice":
            outcomes[r["result_key"]] = "test_result"
    couplings: list[str] = []
    if practice:
        if not consent_given(session, school_id):
            reason = "no_consent"
        else:
            couplings = session.scalars(select(m.LvsCoupling.id).where(
                m.LvsCoupling.school_id == school_id, m.LvsCoupling.removed_at.is_(None))).all()
            reason = None if couplings else "no_lvs_coupling"
        if reason:
            for r in practice:
                outcomes[r["result_key"]] = reason
            practice = []
    if practice:
        now = utcnow()
        unique: dict[str, dict] = {}
        for r in practice:
            unique.setdefault(r["result_key"], r)  # the first of a key within one call wins
        new_ids = _insert_ignoring_duplicates(
            session, [{"school_id": school_id, "recorded_at": now, **{f: r.get(f) for f in STORED_FIELDS}}
                      for r in unique.values()])
        for r in practice:
            if r["result_key"] not in new_ids:
                outcomes[r["result_key"]] = "duplicate"
        if new_ids:
            session.execute(insert(m.ResultDelivery), [
                {"coupling_id": c, "result_id": rid, "batch_id": None} for rid in new_ids.values() for c in couplings])
    return [{"result_key": key, "stored": reason is None, "reason": reason} for key, reason in outcomes.items()]


def record_result(session: Session, school_id: str, result: dict) -> dict:
    return record_results(session, school_id, [result])[0]
