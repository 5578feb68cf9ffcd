"""What licensing does when the roster changed (one table: change -> reaction).

- a group that disappeared: its couplings end (license.decoupled, reason group_removed);
- a pupil who left the school: their seats are freed (reason pupil_left);
- a pupil who moved keeps their seats; group access follows the new group by itself, because
  entitlements are read from the current copy of the roster (nothing to do here).
"""
from __future__ import annotations

from sqlalchemy.orm import Session

from services.licensing import licences

REACTIONS = (
    ("groups", "group", "group_removed"),
    ("pupils", "pupil", "pupil_left"),
)


def react_to_removals(session: Session, school_id: str, removed: dict[str, list[str]]) -> dict[str, int]:
    """End the couplings of removed groups and pupils; returns how many ended per reason."""
    return {reason: licences.end_target_couplings(session, school_id, target_kind, removed[kind], reason)
            for kind, target_kind, reason in REACTIONS}
