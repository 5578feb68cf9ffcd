"""The exact difference between what koppel holds for a school and a new snapshot (pure)."""
from __future__ import annotations

from dataclasses import dataclass, field

from services.roster.snapshot import RosterSnapshot


@dataclass
class KindDiff:
    added: list = field(default_factory=list)
    changed: list = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {"added": len(self.added), "changed": len(self.changed), "removed": len(self.removed)}

    def __bool__(self) -> bool:
        return bool(self.added or self.changed or self.removed)


@dataclass
class RosterDiff:
    groups: KindDiff
    pupils: KindDiff
    staff: KindDiff

    def is_empty(self) -> bool:
        return not (self.groups or self.pupils or self.staff)

    def counts(self) -> dict[str, dict[str, int]]:
        return {"groups": self.groups.counts(), "pupils": self.pupils.counts(), "staff": self.staff.counts()}


def _diff_kind(current: dict, incoming: dict) -> KindDiff:
    result = KindDiff()
    for key, item in incoming.items():
        old = current.get(key)
        if old is None:
            result.added.append(item)
        elif old != item:
            result.changed.append(item)
    result.removed = sorted(key for key in current if key not in incoming)
    result.added.sort(key=lambda x: x.key)
    result.changed.sort(key=lambda x: x.key)
    return result


def diff(current: RosterSnapshot | None, incoming: RosterSnapshot) -> RosterDiff:
    """A full snapshot: anything koppel holds that the snapshot lacks is removed
    (a pupil missing from it has left the school)."""
    if current is None:
        return RosterDiff(_diff_kind({}, incoming.groups), _diff_kind({}, incoming.pupils),
                          _diff_kind({}, incoming.staff))
    return RosterDiff(_diff_kind(current.groups, incoming.groups),
                      _diff_kind(current.pupils, incoming.pupils),
                      _diff_kind(current.staff, incoming.staff))


def removes_too_many_pupils(current: RosterSnapshot | None, change: RosterDiff, threshold: float) -> bool:
    """The mass-deletion guard: would this sync remove more than `threshold` of the pupils?"""
    if current is None or not current.pupils:
        return False
    return len(change.pupils.removed) / len(current.pupils) > threshold
