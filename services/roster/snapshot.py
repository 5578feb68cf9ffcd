"""The internal roster snapshot: what one source (EDEXML file, Basispoort pull) says a school is.

Both intake paths produce this, and the diff only ever compares snapshots with the stored
state. Only fields koppel's features use are here: no BSN, birth data, address, nationality.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class SchoolInfo:
    brin: str
    dependance: str
    name: str | None
    schooljaar: str | None = None
    basispoort_id: str | None = None  # set by the Basispoort pull

    @property
    def school_id(self) -> str:
        return f"{self.brin}{self.dependance}"


@dataclass(frozen=True)
class Group:
    key: str
    name: str
    jaargroep: str | None
    composite: bool = False


@dataclass(frozen=True)
class Pupil:
    key: str
    last_name: str
    first_name: str | None
    prefix: str | None
    jaargroep: str | None
    group: str | None
    composite_groups: tuple[str, ...] = ()
    eckid: str | None = None


@dataclass(frozen=True)
class Staff:
    key: str
    last_name: str
    first_name: str | None
    prefix: str | None
    email: str | None
    roles: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    eckid: str | None = None

    @property
    def is_ict_coordinator(self) -> bool:
        return any(r in ICT_ROLES for r in self.roles)


ICT_ROLES = ("ICT", "ICTCoordinator")


@dataclass
class RosterSnapshot:
    school: SchoolInfo
    groups: dict[str, Group] = field(default_factory=dict)
    pupils: dict[str, Pupil] = field(default_factory=dict)
    staff: dict[str, Staff] = field(default_factory=dict)
    source: str = "edexml"
