"""When the nightly Basispoort sync is due, and how one roster process claims it.

Every roster process checks the clock (a nameko timer); the first to insert the night's row in
`nightly_syncs` runs the sync, the others see the row and do nothing. A primary key, not a
lock held for hours: the claim survives restarts and shows who ran which night.
"""
from __future__ import annotations

import datetime as dt
import os
import socket
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from services.roster import models as m
from shared import config
from shared.db import insert_or_ignore
from shared.messaging import utcnow


def parse_time(value: str) -> dt.time:
    """'02:30' -> 02:30; ValueError with the setting's name otherwise."""
    try:
        hours, minutes = value.strip().split(":")
        return dt.time(int(hours), int(minutes))
    except ValueError:
        raise ValueError(f"ROSTER_SYNC_AT must be HH:MM (24h), got {value!r}") from None


def settings() -> tuple[dt.time, ZoneInfo, dt.timedelta]:
    """ROSTER_SYNC_AT (default 02:30), ROSTER_SYNC_TZ (Europe/Amsterdam), ROSTER_SYNC_WINDOW_HOURS (4)."""
    return (parse_time(config.setting("ROSTER_SYNC_AT", "02:30")),
            ZoneInfo(config.setting("ROSTER_SYNC_TZ", "Europe/Amsterdam")),
            dt.timedelta(hours=config.float_setting("ROSTER_SYNC_WINDOW_HOURS", 4)))


def due_run_date(now: dt.datetime, at: dt.time, tz: ZoneInfo, window: dt.timedelta) -> dt.date | None:
    """The local date whose sync is due at `now`, or None.

    Due from the scheduled time until `window` later: a process started within the window
    catches up, one started at noon does not pull the whole country during school hours.
    A window may cross midnight (23:30 + 4 h): the run then belongs to the previous date.
    """
    local = now.astimezone(tz)
    for date in (local.date(), local.date() - dt.timedelta(days=1)):
        start = dt.datetime.combine(date, at, tzinfo=tz)
        if start <= local < start + window:
            return date
    return None


def claimant() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def claim(session: Session, run_date: dt.date, by: str | None = None, now: dt.datetime | None = None) -> bool:
    """Insert the night's row; True for exactly one caller, however many processes try at once."""
    return insert_or_ignore(session, m.NightlySync.__table__, {
        "run_date": run_date, "claimed_by": by or claimant(), "started_at": now or utcnow()})


def finish(session: Session, run_date: dt.date, summary: dict, now: dt.datetime | None = None) -> None:
    run = session.get(m.NightlySync, run_date)
    run.finished_at = now or utcnow()
    run.summary = summary
