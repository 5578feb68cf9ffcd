"""Arranging licensing state on the real PostgreSQL: licences and roster.updated events as roster sends them."""
from __future__ import annotations

import datetime as dt
import itertools

from services.licensing import licences, roster_copy
from shared.events import load_event, make_event

SCHOOL = "99ZZ00"
_contracts = itertools.count(1)


def licence_data(**overrides) -> dict:
    data = {"school_id": SCHOOL, "contract_number": f"00402080{next(_contracts):08d}",
            "title": "Argus Clou aardrijkskunde digibordsoftware groep 7", "isbn": "9789402018141",
            "article_number": "540534", "method": "Argus Clou", "product_type": "Digibordsoftware",
            "start_date": "2017-05-15", "end_date": "2039-12-31", "licence_type": "Proef", "kind": "group"}
    data.update(overrides)
    if data["kind"] == "pupil":
        data.setdefault("seats", 5)
    return data


def register(session_factory, **overrides) -> dict:
    with session_factory() as s, s.begin():
        return licences.register_licence(s, licence_data(**overrides))


def roster_event(sequence: int, *, groups=(), pupils=(), staff=(), removed_groups=(), removed_pupils=(),
                 changed_pupils=(), school: str = SCHOOL) -> dict:
    """A roster.updated envelope through the real contract (dump, then load as a consumer would)."""
    payload = {"sequence": sequence,
               "groups": {"added": [{"key": k, "name": n, "jaargroep": None, "composite": k.startswith("sg")}
                                    for k, n in groups], "removed": list(removed_groups)},
               "pupils": {"added": [{"key": k, "group": g, "composite_groups": list(c)} for k, g, c in pupils],
                          "changed": [{"key": k, "group": g, "composite_groups": list(c)}
                                      for k, g, c in changed_pupils],
                          "removed": list(removed_pupils)},
               "staff": {"added": [{"key": k, "groups": list(gs), "roles": ["LRK"]} for k, gs in staff]}}
    return load_event(make_event("roster.updated", school, payload))


def apply_roster(session_factory, event: dict) -> dict:
    with session_factory() as s, s.begin():
        return roster_copy.apply_roster_updated(s, event)


def a_school(session_factory, pupils: int = 6) -> None:
    """Groups 5A, 5B, composite sg1; pupils P1..Pn (odd in 5A, even in 5B, P1 also in sg1); teacher T5A."""
    apply_roster(session_factory, roster_event(
        1, groups=[("5A", "Groep 5A"), ("5B", "Groep 5B"), ("sg1", "Plusklas")],
        pupils=[(f"P{i}", "5A" if i % 2 else "5B", ["sg1"] if i == 1 else []) for i in range(1, pupils + 1)],
        staff=[("T5A", ["5A"]), ("T5B", ["5B", "sg1"])]))


def yesterday() -> str:
    return (dt.date.today() - dt.timedelta(days=1)).isoformat()


def tomorrow() -> str:
    return (dt.date.today() + dt.timedelta(days=1)).isoformat()
