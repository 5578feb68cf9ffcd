"""What the gateway asks the other services, and how it combines their answers for a screen.

Shared by the JSON API and the admin UI, so both show the same thing. Every call passes the
caller's school: the backends filter by it, so another school's id is NotFound.
"""
from __future__ import annotations

from services.gateway.cache import LICENCE_LISTS
from services.gateway.dutch import LVS_STATUS
from shared.errors import InvalidInput

ROSTER_PAGE = 200  # the roster's largest page


def page_list(items: list, page: int, per_page: int) -> dict:
    """One page of a list a backend returns whole (licences of a school: tens to hundreds)."""
    total = len(items)
    pages = max(1, -(-total // per_page))
    if page > pages and total:
        raise InvalidInput("invalid page", {"page": [f"1..{pages}"]})
    start = (page - 1) * per_page
    return {"items": items[start:start + per_page],
            "page": {"page": page, "per_page": per_page, "total": total, "pages": pages}}


def licences(licensing, school_id: str, kind: str | None, active_only: bool, dump=None) -> list[dict]:
    """The school's licence list, from the per-process cache (LICENCE_LIST_CACHE_SECONDS, default 1 s),
    optionally dumped (`dump`) once when loaded. Couplings made through this process evict it at once;
    through another process, the seat counts shown may lag by at most the TTL (coupling itself always
    checks the seats in licensing)."""
    def load():
        items = licensing.list_licences(school_id, kind, active_only)
        return dump(items) if dump else items
    return LICENCE_LISTS.get_or_load((school_id, kind, active_only, bool(dump)), load)


def licences_changed(school_id: str) -> None:
    LICENCE_LISTS.evict(lambda key: key[0] == school_id)


def all_pupils(roster, school_id: str, group_key: str | None = None) -> list[dict]:
    items, page = [], 1
    while True:
        answer = roster.pupils(school_id, page, ROSTER_PAGE, group_key)
        items.extend(answer["items"])
        if page >= answer["page"]["pages"]:
            return items
        page += 1


def all_staff(roster, school_id: str, ict_only: bool = False) -> list[dict]:
    items, page = [], 1
    while True:
        answer = roster.staff(school_id, page, ROSTER_PAGE, ict_only)
        items.extend(answer["items"])
        if page >= answer["page"]["pages"]:
            return items
        page += 1


def licence_details(licensing, roster, school_id: str, licence_id: str) -> dict:
    """The licence with its current couplings, each with the group's or pupil's name."""
    licence = licensing.licence(school_id, licence_id)
    couplings = licence.get("couplings", [])
    names: dict[tuple[str, str], str] = {}
    pupil_groups: dict[str, str | None] = {}
    if any(c["target_kind"] == "group" for c in couplings):
        names.update((("group", g["key"]), g["name"]) for g in licensing.known_groups(school_id))
    if any(c["target_kind"] == "pupil" for c in couplings):
        for pupil in all_pupils(roster, school_id):
            names[("pupil", pupil["key"])] = pupil["display_name"]
            pupil_groups[pupil["key"]] = pupil.get("group_key")
    licence["couplings"] = [{**c, "target_name": names.get((c["target_kind"], c["target_key"])),
                             "group_key": pupil_groups.get(c["target_key"]) if c["target_kind"] == "pupil" else None}
                            for c in couplings]
    return licence


def group_names(roster, school_id: str) -> dict[str, str]:
    items, page = {}, 1
    while True:
        answer = roster.groups(school_id, page, ROSTER_PAGE)
        items.update((g["key"], g["name"]) for g in answer["items"])
        if page >= answer["page"]["pages"]:
            return items
        page += 1


def with_status_text(coupling: dict) -> dict:
    return {**coupling, "status_text": LVS_STATUS.get(coupling["status"], coupling["status"])}


def lvs_couplings(results, school_id: str) -> list[dict]:
    return [with_status_text(c) for c in results.lvs_couplings(school_id)]
