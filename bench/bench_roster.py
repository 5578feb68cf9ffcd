"""Roster intake speed on PostgreSQL: prints figures, asserts nothing (docs/performance.md, "## Roster").

(a) one 600-pupil school: first import and re-import of its EDEXML file (target < 1 s each);
(b) a national roster, SCHOOLS x 220 pupils: first full sync (target < 5 min for 7,000 schools),
    then a nightly re-sync where 1% of the pupils changed (target >= 20,000 pupils/s); peak memory.
    The files are generated once into KOPPEL_BENCH_DIR (not timed) and read like an upload would be;
    --workers N syncs them from N processes side by side (schools are independent).

Each school is one transaction through `store.sync_school`, exactly as an upload or the nightly
pull does it. Time is split into parsing (EDEXML bytes -> snapshot, with XSD validation) and
storing (diff + writes + outbox event + commit).

    .venv/bin/python bench/bench_roster.py                 # 7,000 schools
    .venv/bin/python bench/bench_roster.py --schools 700   # a tenth, and the extrapolation
"""
from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import os
import platform
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, text  # noqa: E402

from services.roster import basispoort, edexml, store, synthetic  # noqa: E402
from shared.db import make_engine, make_session_factory  # noqa: E402
from shared.migrations import upgrade  # noqa: E402

PG = os.environ.get("KOPPEL_BENCH_PG", "postgresql+psycopg2://postgres@127.0.0.1:5432")
DB = os.environ.get("KOPPEL_BENCH_DB", "koppel_roster_bench")


def fresh_database() -> str:
    admin = create_engine(f"{PG}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{DB}"'))
    admin.dispose()
    url = f"{PG}/{DB}"
    upgrade("roster", url)
    return url


class Clock:
    def __init__(self):
        self.parse = self.store = 0.0

    def sync(self, Session, data: bytes, **kw) -> dict:
        t0 = time.perf_counter()
        snapshot = edexml.parse_bytes(data)
        t1 = time.perf_counter()
        with Session() as session, session.begin():
            report = store.sync_school(session, snapshot, **kw)
        self.parse += t1 - t0
        self.store += time.perf_counter() - t1
        return report


def one_school(Session) -> None:
    size = len(synthetic.to_edexml(synthetic.school(0, 600))) // 1024
    print(f"(a) one school of 600 pupils (EDEXML 2.1, {size} KB)")
    firsts, agains = [], []
    for i in range(5):
        data = synthetic.to_edexml(synthetic.school(60_000 + i, 600))
        clock = Clock()
        t = time.perf_counter()
        report = clock.sync(Session, data)
        firsts.append(time.perf_counter() - t)
        assert report["pupils"]["added"] == 600
        t = time.perf_counter()
        report = clock.sync(Session, data)
        agains.append(time.perf_counter() - t)
        assert sum(report["pupils"].values()) == 0
    print(f"    first import  median {statistics.median(firsts) * 1000:7.1f} ms  (min {min(firsts) * 1000:.1f}, "
          f"max {max(firsts) * 1000:.1f}; 5 schools)")
    print(f"    re-import     median {statistics.median(agains) * 1000:7.1f} ms  (min {min(agains) * 1000:.1f}, "
          f"max {max(agains) * 1000:.1f})")


def generate(folder: Path, phase: str, schools: int, pupils: int) -> None:
    """Write the phase's EDEXML files once (not timed): school i, or school i with 1% of its pupils changed."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(schools):
        path = folder / f"{phase}-{pupils}-{i:05d}.xml"
        if not path.exists():
            school = synthetic.school(i, pupils)
            if phase == "resync":
                school = synthetic.with_changes(school, 0.01, seed=i)
            path.write_bytes(synthetic.to_edexml(school))


def _phase_worker(args) -> tuple[float, float, int]:
    """Sync schools k, k+workers, ... in this process (own connection); returns (parse s, store s, changes)."""
    url, folder, phase, k, workers, schools, pupils = args
    engine = make_engine(url, pool_size=1, max_overflow=0)
    Session = make_session_factory(engine)
    clock, changed = Clock(), 0
    for i in range(k, schools, workers):
        report = clock.sync(Session, (folder / f"{phase}-{pupils}-{i:05d}.xml").read_bytes())
        changed += sum(report["pupils"].values())
    engine.dispose()
    return clock.parse, clock.store, changed


def national(url: str, folder: Path, schools: int, pupils: int, workers: int) -> None:
    total = schools * pupils
    print(f"(b) national roster: {schools:,} schools x {pupils} pupils = {total:,} pupils, "
          f"{workers} process(es), files read from {folder}")
    for phase, title in (("first", "first full sync"), ("resync", "nightly re-sync, 1% changed")):
        generate(folder, phase, schools, pupils)
        jobs = [(url, folder, phase, k, workers, schools, pupils) for k in range(workers)]
        t = time.perf_counter()
        if workers == 1:
            parts = [_phase_worker(jobs[0])]
        else:
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                parts = pool.map(_phase_worker, jobs)
        wall = time.perf_counter() - t
        parse, stored, changed = (sum(x) for x in zip(*parts, strict=True))
        line = (f"    {title}: {wall:6.1f} s wall = {total / wall:,.0f} pupils/s, "
                f"{wall / schools * 1000:.1f} ms/school (split, summed over processes: "
                f"parse+validate {parse:.1f} s, store {stored:.1f} s)")
        if phase == "resync":
            line += f"; {changed:,} pupil changes applied"
        print(line)
        if schools < 7000:
            print(f"      extrapolated to 7,000 schools: {wall / schools * 7000:.0f} s")

    # the Basispoort path: JSON already decoded (as requests gives it) -> snapshot; storing is the same
    sample = [synthetic.to_basispoort(synthetic.school(i, pupils), 1000 + i) for i in range(min(schools, 200))]
    t = time.perf_counter()
    for n, (details, institution) in enumerate(sample):
        basispoort.to_snapshot(1000 + n, details, institution)
    per_school = (time.perf_counter() - t) / len(sample)
    print(f"    Basispoort JSON -> snapshot: {per_school * 1000:.1f} ms/school ({pupils / per_school:,.0f} pupils/s), "
          f"HTTP not included")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--schools", type=int, default=7000)
    parser.add_argument("--pupils", type=int, default=220)
    parser.add_argument("--workers", type=int, default=1, help="processes syncing schools side by side")
    args = parser.parse_args()
    print(f"== roster bench {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z} on {platform.node()} "
          f"({os.cpu_count()} cores, Python {platform.python_version()}), PostgreSQL {PG.split('@')[-1]}")
    url = fresh_database()
    engine = make_engine(url)
    Session = make_session_factory(engine)
    one_school(Session)
    national(url, Path(os.environ.get("KOPPEL_BENCH_DIR", "/tmp/koppel-roster-bench")), args.schools, args.pupils,
             args.workers)
    with engine.connect() as conn:
        size = conn.scalar(text("SELECT pg_size_pretty(pg_database_size(current_database()))"))
        events = conn.scalar(text("SELECT count(*) FROM outbox"))
    peak = max(resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    print(f"    peak RSS of one bench process: {peak / 1024:.0f} MiB; "
          f"database {size}; {events:,} roster.updated events in the outbox")
    engine.dispose()


if __name__ == "__main__":
    main()
