"""Syncing schools from Basispoort: one institution, or every institution (the nightly run).

Each school is fetched outside any transaction (no lock held while waiting on HTTP), then
synced in its own transaction through `store.sync_school`, the same path as an EDEXML upload.
A school that fails ends in a visible state (a `failed` sync run with the reason) and the run
goes on with the next school.
"""
from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.roster import models as m
from services.roster import store
from services.roster.basispoort import BasispoortDataError, BasispoortError, Client
from shared import config
from shared.errors import NotFound

log = logging.getLogger(__name__)
MAX_LISTED_FAILURES = 100


def _known_school(session: Session, institution_id: int) -> str | None:
    with session.begin():
        return session.scalar(select(m.School.id).where(m.School.basispoort_id == str(institution_id)))


def _failed(session: Session, institution_id: int, school_id: str | None, error: str, *,
            personal: bool = False) -> dict:
    """Record the failure on the school (when known) and log it; `personal` errors (data problems
    may quote an e-mail address) are stored but not logged."""
    school_id = school_id or _known_school(session, institution_id)
    run_id = None
    if school_id:
        with session.begin():
            run_id = store.record_failed_sync(session, school_id, "basispoort", error)
    log.warning("Basispoort sync of instelling %s (%s) failed: %s", institution_id, school_id or "unknown",
                f"roster data problems, see sync run {run_id}" if personal else error)
    return {"basispoort_id": institution_id, "school": school_id, "status": "failed", "error": error}


def _fetch(client: Client, institution_id: int, today: dt.date | None):
    """The snapshot, or the exception that explains why there is none (to be recorded, not raised)."""
    try:
        return client.fetch_snapshot(institution_id, today)
    except (BasispoortError, BasispoortDataError) as exc:
        return exc


def _store(session: Session, institution_id: int, fetched, *, dry_run: bool = False) -> dict:
    if isinstance(fetched, BasispoortError):
        return _failed(session, institution_id, None, str(fetched))
    if isinstance(fetched, BasispoortDataError):
        return _failed(session, institution_id, fetched.school_id, "; ".join(fetched.problems), personal=True)
    snapshot = fetched
    try:
        with session.begin():
            report = store.sync_school(session, snapshot, dry_run=dry_run)
    except Exception as exc:  # noqa: BLE001 - one school's failure must not stop the night
        # the type only: a database error's text carries the statement's parameters (names, ECK iDs)
        log.exception("storing the Basispoort roster of %s failed", snapshot.school.school_id)
        return _failed(session, institution_id, snapshot.school.school_id, f"storing failed: {type(exc).__name__}")
    if dry_run:
        status = "dry_run"
    elif report["pending_approval"]:
        status = "pending"
    else:
        changed = any(sum(report[k].values()) for k in ("groups", "pupils", "staff"))
        status = "applied" if changed else "unchanged"
    return {"basispoort_id": institution_id, "school": snapshot.school.school_id, "status": status, "report": report}


def sync_institution(session: Session, client: Client, institution_id: int, *, dry_run: bool = False,
                     today: dt.date | None = None) -> dict:
    """Pull one institution and sync it. Returns `{"basispoort_id", "school", "status", ...}` with
    status `applied`, `unchanged`, `pending`, `dry_run` (and the sync `report`) or `failed` (and `error`)."""
    return _store(session, institution_id, _fetch(client, institution_id, today), dry_run=dry_run)


def fetch_concurrently(client: Client, ids: list[int], concurrency: int, today: dt.date | None = None,
                       green: bool | None = None):
    """Yield (id, snapshot or exception) in the order of `ids`, fetching up to `concurrency` schools at
    once: Basispoort's latency, not koppel, bounds a sequential night (2 requests per school).
    Green threads inside a nameko service (eventlet), OS threads elsewhere (the CLI)."""
    from eventlet import patcher

    if concurrency <= 1:
        for institution_id in ids:
            yield institution_id, _fetch(client, institution_id, today)
        return
    if green if green is not None else patcher.is_monkey_patched("socket"):
        from eventlet import GreenPool

        pool = GreenPool(concurrency)
        yield from zip(ids, pool.imap(lambda i: _fetch(client, i, today), ids), strict=True)
        return
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(concurrency) as executor:
        chunk = concurrency * 4  # bounded read-ahead: snapshots wait in memory only briefly
        for start in range(0, len(ids), chunk):
            part = ids[start:start + chunk]
            yield from zip(part, executor.map(lambda i: _fetch(client, i, today), part), strict=True)


def summarise(results: list[dict]) -> dict:
    summary = {"institutions": len(results), "applied": 0, "unchanged": 0, "pending": 0, "failed": 0, "dry_run": 0}
    for r in results:
        summary[r["status"]] += 1
    failures = [{k: r[k] for k in ("basispoort_id", "school", "error")} for r in results if r["status"] == "failed"]
    summary["failures"] = failures[:MAX_LISTED_FAILURES]
    return summary


def sync_all(session: Session, client: Client, *, today: dt.date | None = None, on_result=None,
             concurrency: int | None = None, dry_run: bool = False) -> dict:
    """Sync every institution Basispoort lets this publisher read; returns the summary.
    Fetches BASISPOORT_CONCURRENCY schools at once (default 4) and stores them one by one in
    `session`. Raises BasispoortError only if the list of institutions itself cannot be fetched."""
    if concurrency is None:
        concurrency = int(config.setting("BASISPOORT_CONCURRENCY", "4"))
    results = []
    for institution_id, fetched in fetch_concurrently(client, client.institution_ids(), concurrency, today):
        result = _store(session, institution_id, fetched, dry_run=dry_run)
        results.append(result)
        if on_result:
            on_result(result)
    return summarise(results)


def find_institution(session: Session, client: Client, school_id: str) -> int:
    """The Basispoort institution id of a school: BRIN6, or a BRIN of 4 for its main location
    (dependance 00). The stored one, else by asking Basispoort."""
    if len(school_id) == 4:
        school_id += "00"
    with session.begin():
        known = session.scalar(select(m.School.basispoort_id).where(m.School.id == school_id))
    if known:
        return int(known)
    for institution_id in client.institution_ids():
        details = client.details(institution_id)
        if f"{details.get('brincode')}{details.get('dependancecode') or '00'}" == school_id:
            return institution_id
    raise NotFound(f"school {school_id} is not among the institutions Basispoort lets us sync")
