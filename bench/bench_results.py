"""Results benchmark: practice results exported per second into the fake LVS. Prints figures,
asserts nothing about speed (record them in docs/performance.md).

A backlog of N practice results (default 100,000) over S schools (default 50), each school with
consent and one LVS coupling to the fake LVS, which runs as its own process (it parses and
XSD-validates every message, as a strict LVS would). The backlog is built with the intake rules
(`record_results`, in chunks), then exported:

1. by `nameko run services.results.service` processes (1, then 2): the exporter as deployed;
   the clock starts when consent is given to all schools at once and stops when nothing is owed;
2. by exporter greenthreads in this process (no broker, no nameko), with the time split into
   building the UWLR message, validating it, the HTTP round trip (the fake's parse + validate
   included) and the rest (PostgreSQL), to show what limits the figure.

Every run checks the fake LVS received each result exactly once.
Uses its own database (koppel_bench_results) and RabbitMQ vhost (results-bench).
Run: .venv/bin/python bench/bench_results.py [--results 100000] [--schools 50] [--batch-size 1000]
"""
from __future__ import annotations

import eventlet

eventlet.monkey_patch()

import argparse  # noqa: E402
import datetime as dt  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from collections import defaultdict  # noqa: E402
from pathlib import Path  # noqa: E402

warnings.filterwarnings("ignore")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402
import yaml  # noqa: E402
from sqlalchemy import create_engine, event, func, select, text, update  # noqa: E402

from services.results import export, intake, lvs_client, lvs_couplings, uwlr  # noqa: E402
from services.results import models as m  # noqa: E402
from services.results.consent import set_consent  # noqa: E402
from shared.db import make_engine, make_session_factory  # noqa: E402
from shared.migrations import upgrade  # noqa: E402

os.environ.setdefault("RESULTS_LVS_ALLOW_HTTP", "1")  # the fake LVS speaks plain http on 127.0.0.1
# one Fernet key for this process and the services it starts (their var dirs differ)
os.environ.setdefault("KOPPEL_SECRET_KEYS", "a29wcGVsLWJlbmNoLW9ubHktbm90LWEtc2VjcmV0ISE=")
PG = os.environ.get("KOPPEL_BENCH_PG", "postgresql+psycopg2://postgres@127.0.0.1:5432")
DB_NAME = "koppel_bench_results"
VHOST = "results-bench"
MGMT = os.environ.get("RABBIT_API_URI", "http://guest:guest@localhost:15672")
KEY = "bench-sleutel"


def fresh_database() -> str:
    admin = create_engine(f"{PG}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{DB_NAME}"'))
    admin.dispose()
    url = f"{PG}/{DB_NAME}"
    upgrade("results", url)
    return url


def fresh_vhost() -> str:
    requests.delete(f"{MGMT}/api/vhosts/{VHOST}", timeout=10)
    requests.put(f"{MGMT}/api/vhosts/{VHOST}", timeout=10).raise_for_status()
    requests.put(f"{MGMT}/api/permissions/{VHOST}/guest", json={"configure": ".*", "write": ".*", "read": ".*"},
                 timeout=10).raise_for_status()
    return f"amqp://guest:guest@localhost:5672/{VHOST}"


class FakeLvsProcess:
    def __init__(self):
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.fakes.lvs", "--keys", KEY], cwd=ROOT,
                                     stdout=subprocess.PIPE, text=True, start_new_session=True)
        self.url = self.proc.stdout.readline().strip()
        self.base = self.url.rsplit("/uwlr", 1)[0]

    def stats(self) -> dict:
        return requests.get(f"{self.base}/stats", timeout=10).json()

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


def schools(count: int) -> list[str]:
    return [f"{10 + i // 26:02d}{chr(65 + i % 26)}B00" for i in range(count)]


def seed(factory, lvs_url: str, school_ids: list[str], total: int) -> float:
    """Couplings with consent withdrawn (so nothing leaves yet) and the backlog; returns intake results/s."""
    with factory() as s, s.begin():
        for school in school_ids:
            set_consent(s, school, True, "bench")
            lvs_couplings.add_lvs_coupling(s, school, {"lvs": "other", "endpoint_url": lvs_url,
                                                       "authorisation_key": KEY}, "bench")
    per_school = total // len(school_ids)
    chunk = 1000
    start = time.perf_counter()
    for school in school_ids:
        for offset in range(0, per_school, chunk):
            results = [{"result_key": f"{school}-{i}", "pupil_key": f"L{i % 300:03d}",
                        "eckid": f"https://ketenid.nl/201703/{school}{i % 300:03d}" if i % 2 else None,
                        "method": "Taal Actief 4", "exercise_code": f"TA4-SP-{i % 60:02d}",
                        "exercise_name": f"Spelling blok {i % 6 + 1} les {i % 10 + 1}", "kind": "practice",
                        "score": i % 11, "taken_on": dt.date(2026, 9, 1) + dt.timedelta(days=i % 90)}
                       for i in range(offset, min(offset + chunk, per_school))]
            with factory() as s, s.begin():
                intake.record_results(s, school, results)
    elapsed = time.perf_counter() - start
    with factory() as s, s.begin():  # withdraw consent: the backlog waits
        for school in school_ids:
            set_consent(s, school, False, "bench")
    return per_school * len(school_ids) / elapsed


def reset_deliveries(engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("UPDATE result_deliveries SET batch_id = NULL"))
        conn.execute(text("DELETE FROM export_batches"))
        conn.execute(text("DELETE FROM outbox"))
        conn.execute(text("UPDATE lvs_couplings SET status = 'active', attempts = 0, next_attempt_at = now(), "
                          "last_export_at = NULL, last_export_count = NULL, last_error = NULL"))
        conn.execute(text("UPDATE school_consent SET given = false"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE result_deliveries"))


def give_consent(engine) -> None:
    with engine.begin() as conn:
        conn.execute(update(m.SchoolConsent).values(given=True, changed_at=func.now()))


def owed(factory) -> int:
    with factory() as s:
        return s.scalar(select(func.count()).select_from(m.ResultDelivery).where(m.ResultDelivery.batch_id.is_(None)))


def wait_until_delivered(factory, timeout: float = 1800) -> float:
    start = time.perf_counter()
    while owed(factory):
        if time.perf_counter() - start > timeout:
            raise RuntimeError("export did not finish")
        time.sleep(0.05)
    return time.perf_counter() - start


def run_processes(count: int, db_url: str, amqp: str, workdir: Path, workers: int, batch_size: int) -> list:
    config = workdir / "results.yml"
    config.write_text(yaml.safe_dump({"AMQP_URI": amqp, "serializer": "json", "max_workers": 10}))
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "RESULTS_DATABASE_URL": db_url,
           "KOPPEL_VAR_DIR": str(workdir / "var"), "LOG_LEVEL": "WARNING", "RESULTS_LVS_ALLOW_HTTP": "1",
           "RESULTS_EXPORT_WORKERS": str(workers), "RESULTS_EXPORT_BATCH_SIZE": str(batch_size),
           "RESULTS_EXPORT_POLL_SECONDS": "0.05"}
    procs = [subprocess.Popen([sys.executable, "-m", "nameko", "run", "--config", str(config),
                               "services.results.service"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=(workdir / f"results-{i}.log").open("wb"), start_new_session=True)
             for i in range(count)]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        info = requests.get(f"{MGMT}/api/queues/{VHOST}/rpc-results", timeout=5)
        if info.ok and info.json().get("consumers", 0) >= count:
            return procs
        time.sleep(0.5)
    raise RuntimeError(f"results processes did not start; see {workdir}")


def stop_processes(procs) -> None:
    for proc in procs:
        proc.terminate()
    for proc in procs:
        proc.wait(timeout=20)


def in_process(factory, engine, workers: int, batch_size: int) -> tuple[float, dict]:
    """Exporter greenthreads in this process, with the time per step."""
    spent = defaultdict(float)

    def before(conn, *_):
        conn.info["sql_started"] = time.perf_counter()

    def after(conn, *_):
        spent["sql"] += time.perf_counter() - conn.info.pop("sql_started")

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)

    def timed(name, fn):
        def wrapper(*args, **kwargs):
            t = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[name] += time.perf_counter() - t
        return wrapper

    originals = (uwlr.build_request, uwlr.validate, lvs_client.send)
    uwlr.build_request = timed("build", uwlr.build_request)
    uwlr.validate = timed("validate", uwlr.validate)
    lvs_client.send = timed("http", lvs_client.send)
    settings = export.ExportSettings(batch_size=batch_size, timeout=60)
    exporters = [export.Exporter(factory, settings) for _ in range(workers)]
    try:
        start = time.perf_counter()
        pool = eventlet.GreenPool(workers)
        for e in exporters:
            pool.spawn(e.export_all)
        pool.waitall()
        elapsed = time.perf_counter() - start
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
        uwlr.build_request, uwlr.validate, lvs_client.send = originals
        for e in exporters:
            e.close()
    return elapsed, dict(spent)


def main() -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the finally blocks: stop the child processes
    parser = argparse.ArgumentParser()
    parser.add_argument("--results", type=int, default=100_000)
    parser.add_argument("--schools", type=int, default=50)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=4, help="exporter greenthreads per process")
    parser.add_argument("--processes", default="1,2", help="results process counts to run")
    args = parser.parse_args()

    print(f"# bench_results  {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}  {platform.node()}  "
          f"{os.cpu_count()} cores  Python {platform.python_version()}  load {os.getloadavg()[0]:.1f}")
    db_url = fresh_database()
    amqp = fresh_vhost()
    engine = make_engine(db_url, pool_size=args.workers + 2, max_overflow=0)
    factory = make_session_factory(engine)
    lvs = FakeLvsProcess()
    try:
        school_ids = schools(args.schools)
        rate = seed(factory, lvs.url, school_ids, args.results)
        total = owed(factory)
        print(f"backlog: {total} practice results over {len(school_ids)} schools; intake (record_results, "
              f"chunks of 1000): {rate:,.0f} results/s")
        with tempfile.TemporaryDirectory() as tmp:
            for count in [int(c) for c in args.processes.split(",") if c]:
                reset_deliveries(engine)
                before = lvs.stats()
                procs = run_processes(count, db_url, amqp, Path(tmp), args.workers, args.batch_size)
                try:
                    give_consent(engine)
                    elapsed = wait_until_delivered(factory)
                finally:
                    stop_processes(procs)
                after = lvs.stats()
                got = after["results"] - before["results"]
                print(f"nameko run x{count} ({args.workers} exporter greenthreads each, batch {args.batch_size}): "
                      f"{total} results in {elapsed:.1f} s = {total / elapsed:,.0f} results/s; "
                      f"LVS received {got} ({after['batches'] - before['batches']} messages, "
                      f"{after['refused'] - before['refused']} refused)")
                assert got == total, "each result exactly once"
        for workers in (1, args.workers):
            reset_deliveries(engine)
            give_consent(engine)
            before = lvs.stats()
            elapsed, spent = in_process(factory, engine, workers, args.batch_size)
            got = lvs.stats()["results"] - before["results"]
            print(f"in-process, {workers} exporter greenthread(s), batch {args.batch_size}: {got} results in "
                  f"{elapsed:.1f} s = {got / elapsed:,.0f} results/s")
            if workers == 1:  # one greenthread: the steps add up to the wall time
                rest = elapsed - sum(spent.values())
                print("  where the time goes: " + ", ".join(f"{k} {v:.1f} s ({v / elapsed:.0%})"
                                                            for k, v in spent.items())
                      + f", other Python (ORM rows, commit, events) {rest:.1f} s ({rest / elapsed:.0%}); "
                      "http includes the fake LVS parsing and XSD-validating each message, "
                      "sql is time in PostgreSQL statements")
            assert got == total, "each result exactly once"
        print(f"fake LVS total: {lvs.stats()}")
    finally:
        lvs.stop()
        engine.dispose()


if __name__ == "__main__":
    main()
