"""Consent ("toestemming") per school: explicit, off until an ICT coordinator turns it on."""
from __future__ import annotations

from sqlalchemy.orm import Session

from services.results import models as m
from services.results.models import as_utc
from services.results.schemas import ConsentSchema
from shared.db import insert_or_ignore
from shared.errors import InvalidInput
from shared.events import SCHOOL_ID
from shared.messaging import utcnow


def check_school(school_id: str) -> None:
    try:
        SCHOOL_ID(school_id)
    except Exception:  # noqa: BLE001 - marshmallow's ValidationError, reported as ours
        raise InvalidInput("invalid school", {"school_id": ["must be BRIN + dependance, e.g. 99ZZ00"]}) from None


def consent_given(session: Session, school_id: str) -> bool:
    row = session.get(m.SchoolConsent, school_id)
    return bool(row and row.given)


def consent(session: Session, school_id: str) -> dict:
    """`{"given": bool, "by": str | None, "at": ISO-8601 | None}`; never recorded means not given."""
    check_school(school_id)
    row = session.get(m.SchoolConsent, school_id)
    if row is None:
        return {"given": False, "by": None, "at": None}
    return ConsentSchema().dump({"given": row.given, "by": row.changed_by, "at": as_utc(row.changed_at)})


def set_consent(session: Session, school_id: str, given: bool, by: str) -> dict:
    """Turn consent on or off; who and when are kept, also in the history of changes."""
    check_school(school_id)
    if not isinstance(given, bool):
        raise InvalidInput("invalid consent", {"given": ["must be true or false"]})
    if not isinstance(by, str) or not by.strip():
        raise InvalidInput("invalid consent", {"by": ["who gives or withdraws consent is required"]})
    now = utcnow()
    # two coordinators saving at once: the first insert wins, the second waits on the row lock
    insert_or_ignore(session, m.SchoolConsent.__table__,
                     {"school_id": school_id, "given": given, "changed_by": by, "changed_at": now})
    row = session.get(m.SchoolConsent, school_id, with_for_update=True, populate_existing=True)
    row.given, row.changed_by, row.changed_at = given, by, now
    session.add(m.ConsentChange(school_id=school_id, given=given, changed_by=by, changed_at=now))
    session.flush()
    return consent(session, school_id)
