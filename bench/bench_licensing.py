"""Licensing benchmark: prints figures, asserts nothing about speed (record them in docs/performance.md).

1. Couplings per second: 50 concurrent RPC clients couple pupils to one per-child licence, served by
   `nameko run` licensing processes (1 and 2) on RabbitMQ and PostgreSQL; more requests than seats,
   then the seats used are checked (no oversell). Also the same rule called in-process by 50
   greenthreads (no broker), to show what limits the RPC figure.
2. Entitlement lookup latency inside the service: `entitlements()` for random pupils of a school with
   600 pupils and 40 licences (session opened and closed per lookup, as a worker does), and the same
   over RPC for comparison.

Uses its own database (koppel_bench_licensing) and RabbitMQ vhost (licensing); needs PostgreSQL on
127.0.0.1:5432 (trust) and RabbitMQ with the management plugin, like the tests.
Run: .venv/bin/python bench/bench_licensing.py [--requests 1000] [--lookups 3000]
"""
from __future__ import annotations

import eventlet

eventlet.monkey_patch()

import argparse  # noqa: E402
import datetime as dt  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

warnings.filterwarnings("ignore")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import requests  # noqa: E402
import yaml  # noqa: E402
from nameko.standalone.rpc import ServiceRpcProxy  # noqa: E402
from procstat import cpu_seconds, machine_busy_seconds  # noqa: E402 (bench/ is on sys.path)
from sqlalchemy import create_engine, func, select, text  # noqa: E402
from sqlalchemy.pool import NullPool  # noqa: E402

from services.licensing import entitlements, licences, roster_copy  # noqa: E402
from services.licensing import models as m  # noqa: E402
from shared.db import make_engine, make_session_factory  # noqa: E402
from shared.errors import Conflict  # noqa: E402
from shared.events import load_event, make_event  # noqa: E402
from shared.migrations import upgrade  # noqa: E402

PG = os.environ.get("KOPPEL_BENCH_PG", "postgresql+psycopg2://postgres@127.0.0.1:5432")
DB_NAME = "koppel_bench_licensing"
VHOST = "licensing"
MGMT = os.environ.get("RABBIT_API_URI", "http://guest:guest@localhost:15672")
SCHOOL = "99ZZ00"
ROOT = Path(__file__).resolve().parent.parent


def fresh_database() -> str:
    admin = create_engine(f"{PG}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{DB_NAME}"'))
    admin.dispose()
    url = f"{PG}/{DB_NAME}"
    upgrade("licensing", url)
    return url


def fresh_vhost() -> str:
    requests.delete(f"{MGMT}/api/vhosts/{VHOST}", timeout=10)
    requests.put(f"{MGMT}/api/vhosts/{VHOST}", timeout=10).raise_for_status()
    requests.put(f"{MGMT}/api/permissions/{VHOST}/guest", json={"configure": ".*", "write": ".*", "read": ".*"},
                 timeout=10).raise_for_status()
    return f"amqp://guest:guest@localhost:5672/{VHOST}"


def roster(session_factory, groups: dict[str, tuple[str, str | None]], pupils: dict[str, tuple[str, list]],
           staff: dict[str, list[str]]) -> None:
    payload = {"sequence": 1,
               "groups": {"added": [{"key": k, "name": n, "jaargroep": j, "composite": j is None}
                                    for k, (n, j) in groups.items()]},
               "pupils": {"added": [{"key": k, "group": g, "composite_groups": c} for k, (g, c) in pupils.items()]},
               "staff": {"added": [{"key": k, "groups": g, "roles": ["LRK"]} for k, g in staff.items()]}}
    with session_factory() as s, s.begin():
        roster_copy.apply_roster_updated(s, load_event(make_event("roster.updated", SCHOOL, payload)))


def licence(session_factory, n: int, **values) -> str:
    data = {"school_id": SCHOOL, "contract_number": f"{40200000000000 + n:016d}", "title": f"Licentie {n}",
            "product_type": licences.PRODUCT_TYPES[n % 6], "start_date": "2020-08-01", "end_date": "2039-07-31",
            "method": f"Methode {n % 7}", "article_number": str(500000 + n), "kind": "group", **values}
    with session_factory() as s, s.begin():
        return licences.register_licence(s, data)["id"]


def start_processes(count: int, db_url: str, amqp: str, workdir: Path) -> list[subprocess.Popen]:
    config = workdir / "licensing.yml"
    config.write_text(yaml.safe_dump({"AMQP_URI": amqp, "serializer": "json", "max_workers": 20}))
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "LICENSING_DATABASE_URL": db_url,
           "KOPPEL_VAR_DIR": str(workdir / "var"), "LOG_LEVEL": "WARNING"}
    procs = [subprocess.Popen([sys.executable, "-m", "nameko", "run", "--config", str(config),
                               "services.licensing.service"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=(workdir / f"licensing-{i}.log").open("wb"), start_new_session=True)
             for i in range(count)]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        info = requests.get(f"{MGMT}/api/queues/{VHOST}/rpc-licensing", timeout=5)
        if info.ok and info.json().get("consumers", 0) >= count:
            return procs
        time.sleep(0.5)
    raise RuntimeError(f"licensing processes did not start; see {workdir}")


def stop_processes(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        proc.terminate()
    for proc in procs:
        proc.wait(timeout=20)


def broker_pids() -> list[int]:
    """RabbitMQ's Erlang VM on this machine (to split the rest into broker and database)."""
    out = subprocess.run(["pgrep", "-f", "beam.smp"], capture_output=True, text=True).stdout.split()
    return [int(pid) for pid in out]


def coupling_rate(db_url: str, amqp: str, processes: int, requests_total: int, clients: int, workdir: Path) -> dict:
    engine = make_engine(db_url)
    factory = make_session_factory(engine)
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE licences, couplings, outbox, roster_pupils, roster_groups, roster_staff, "
                          "processed_events, rights_pushes"))
    pupils = {f"L{i:05d}": ("G1", []) for i in range(requests_total + 200)}
    roster(factory, {"G1": ("Groep 1", "1")}, pupils, {})
    seats = requests_total
    licence_id = licence(factory, 1, kind="pupil", seats=seats)
    keys = list(pupils)
    procs = start_processes(processes, db_url, amqp, workdir)
    try:
        work = iter(keys[:requests_total])
        over = iter(keys[requests_total:])
        outcomes = {"coupled": 0, "no seats": 0}

        def client(items):
            with ServiceRpcProxy("licensing", {"AMQP_URI": amqp, "serializer": "json"}, timeout=60) as rpc:
                for key in items:
                    try:
                        rpc.couple_pupil(SCHOOL, licence_id, key, "bench")
                        outcomes["coupled"] += 1
                    except Conflict:
                        outcomes["no seats"] += 1

        pool = eventlet.GreenPool(clients)
        brokers = broker_pids()
        before = ([cpu_seconds(p.pid) for p in procs], time.process_time(), machine_busy_seconds(),
                  sum(cpu_seconds(pid) for pid in brokers))
        start = time.perf_counter()
        for _ in range(clients):
            pool.spawn(client, work)
        pool.waitall()
        elapsed = time.perf_counter() - start
        service_cpu = sum(cpu_seconds(p.pid) for p in procs) - sum(before[0])
        client_cpu, machine_cpu = time.process_time() - before[1], machine_busy_seconds() - before[2]
        broker_cpu = sum(cpu_seconds(pid) for pid in brokers) - before[3]
        for _ in range(clients):  # 200 more than seats, concurrently: all must be refused
            pool.spawn(client, over)
        pool.waitall()
    finally:
        stop_processes(procs)
    with factory() as s:
        used = s.get(m.Licence, licence_id).seats_used
        active = s.scalar(select(func.count()).select_from(m.Coupling).where(m.Coupling.ended_at.is_(None)))
    engine.dispose()
    return {"processes": processes, "seats": seats, "requests": requests_total + 200, **outcomes,
            "seats_used": used, "active_couplings": active, "seconds": elapsed,
            "per_second": requests_total / elapsed,
            # CPU ms per coupling: licensing processes, the 50 clients (this process), RabbitMQ, and
            # everything else (PostgreSQL, the kernel's share)
            "cpu_ms": {"licensing": service_cpu / requests_total * 1000, "clients": client_cpu / requests_total * 1000,
                       "rabbitmq": broker_cpu / requests_total * 1000,
                       "rest (PostgreSQL, kernel)": (machine_cpu - service_cpu - client_cpu - broker_cpu)
                       / requests_total * 1000},
            "machine_cores_busy": machine_cpu / elapsed}


def rpc_floor(db_url: str, amqp: str, calls: int, clients: int, workdir: Path) -> float:
    """health() calls per second with the same clients and one process: what RPC alone costs here."""
    procs = start_processes(1, db_url, amqp, workdir)
    try:
        work = iter(range(calls))

        def client():
            with ServiceRpcProxy("licensing", {"AMQP_URI": amqp, "serializer": "json"}, timeout=60) as rpc:
                for _ in work:
                    rpc.health()

        pool = eventlet.GreenPool(clients)
        start = time.perf_counter()
        for _ in range(clients):
            pool.spawn(client)
        pool.waitall()
        return calls / (time.perf_counter() - start)
    finally:
        stop_processes(procs)


def in_process_rate(db_url: str, requests_total: int, clients: int) -> float:
    engine = make_engine(db_url, pool_size=20, max_overflow=0)  # a service process holds at most 30
    factory = make_session_factory(engine)
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE licences, couplings, outbox, roster_pupils, roster_groups, roster_staff"))
    roster(factory, {"G1": ("Groep 1", "1")}, {f"L{i:05d}": ("G1", []) for i in range(requests_total)}, {})
    licence_id = licence(factory, 1, kind="pupil", seats=requests_total)
    work = iter([f"L{i:05d}" for i in range(requests_total)])

    def client():
        for key in work:
            with factory() as s, s.begin():
                licences.couple_pupil(s, SCHOOL, licence_id, key, "bench")

    pool = eventlet.GreenPool(clients)
    start, cpu = time.perf_counter(), time.process_time()
    for _ in range(clients):
        pool.spawn(client)
    pool.waitall()
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    engine.dispose()
    return requests_total / elapsed, cpu / requests_total * 1000


def entitlement_school(db_url: str) -> tuple:
    """600 pupils in 24 groups (+4 composite groups), 24 teachers, 40 licences: 30 group licences
    coupled to the 3 groups of their jaargroep (plus composite groups), 10 per-child licences of 30 seats."""
    engine = make_engine(db_url)
    factory = make_session_factory(engine)
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE licences, couplings, outbox, roster_pupils, roster_groups, roster_staff"))
    groups = {f"{j}{c}": (f"Groep {j}{c}", str(j)) for j in range(1, 9) for c in "ABC"}
    groups.update({f"sg{i}": (f"Plusklas {i}", None) for i in range(1, 5)})
    plain = [g for g in groups if not g.startswith("sg")]
    pupils = {f"P{i:03d}": (plain[i % 24], [f"sg{i % 4 + 1}"] if i % 5 == 0 else []) for i in range(600)}
    roster(factory, groups, pupils, {f"T{g}": [g] for g in plain})
    rnd = random.Random(7)
    with factory() as s, s.begin():
        for n in range(30):
            lic = licence(factory, 100 + n)
            jaargroep = str(n % 8 + 1)
            for g in [g for g in plain if g.startswith(jaargroep)] + ([f"sg{n % 4 + 1}"] if n % 3 == 0 else []):
                licences.couple_group(s, SCHOOL, lic, g, "bench")
        for n in range(10):
            lic = licence(factory, 200 + n, kind="pupil", seats=30)
            for key in rnd.sample(sorted(pupils), 30):
                licences.couple_pupil(s, SCHOOL, lic, key, "bench")
    return engine, factory, sorted(pupils)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def entitlement_latency(db_url: str, amqp: str, lookups: int, workdir: Path) -> dict:
    engine, factory, keys = entitlement_school(db_url)
    rnd = random.Random(11)
    sizes, timings = [], []
    for _ in range(200):  # warm the pool and the caches
        with factory() as s:
            entitlements.entitlements(s, SCHOOL, "pupil", rnd.choice(keys))
    cpu = time.process_time()
    for _ in range(lookups):
        key = rnd.choice(keys)
        start = time.perf_counter()
        with factory() as s:
            found = entitlements.entitlements(s, SCHOOL, "pupil", key)
        timings.append((time.perf_counter() - start) * 1000)
        sizes.append(len(found))
    cpu_ms = (time.process_time() - cpu) / lookups * 1000
    floor = _raw_floor(db_url, keys, rnd, lookups)
    procs = start_processes(1, db_url, amqp, workdir)
    rpc_timings = []
    try:
        with ServiceRpcProxy("licensing", {"AMQP_URI": amqp, "serializer": "json"}, timeout=30) as rpc:
            for _ in range(50):
                rpc.entitlements(SCHOOL, "pupil", rnd.choice(keys))
            for _ in range(min(lookups, 1000)):
                start = time.perf_counter()
                rpc.entitlements(SCHOOL, "pupil", rnd.choice(keys))
                rpc_timings.append((time.perf_counter() - start) * 1000)
    finally:
        stop_processes(procs)
    engine.dispose()
    return {"lookups": lookups, "products_per_pupil": statistics.mean(sizes),
            "p50": percentile(timings, 50), "p95": percentile(timings, 95), "p99": percentile(timings, 99),
            "max": max(timings), "cpu_ms": cpu_ms,
            "rpc_p50": percentile(rpc_timings, 50), "rpc_p99": percentile(rpc_timings, 99),
            **floor}


def _raw_floor(db_url: str, keys: list[str], rnd: random.Random, lookups: int) -> dict:
    """The database's share: SELECT 1, and the same two queries with plain psycopg2 (no ORM, no pool)."""
    engine = create_engine(db_url, poolclass=NullPool)
    conn = engine.raw_connection()
    cur = conn.cursor()
    ping, pair = [], []
    for _ in range(lookups):
        start = time.perf_counter()
        cur.execute("SELECT 1")
        cur.fetchall()
        ping.append((time.perf_counter() - start) * 1000)
        key = rnd.choice(keys)
        start = time.perf_counter()
        cur.execute("SELECT group_key, composite_groups FROM roster_pupils WHERE school_id = %s AND key = %s "
                    "AND NOT removed", (SCHOOL, key))
        group, composite = cur.fetchone()
        cur.execute("SELECT l.id, l.title, c.target_kind, c.target_key FROM licences l JOIN couplings c "
                    "ON c.licence_id = l.id WHERE c.school_id = %s AND c.ended_at IS NULL AND "
                    "((c.target_kind = 'group' AND c.target_key = ANY(%s)) OR (c.target_kind = 'pupil' AND "
                    "c.target_key = %s)) AND l.start_date <= CURRENT_DATE AND l.end_date >= CURRENT_DATE",
                    (SCHOOL, [group, *(composite or [])], key))
        cur.fetchall()
        conn.rollback()
        pair.append((time.perf_counter() - start) * 1000)
    conn.close()
    engine.dispose()
    return {"ping_p50": percentile(ping, 50), "ping_p99": percentile(ping, 99),
            "raw_p50": percentile(pair, 50), "raw_p99": percentile(pair, 99)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--lookups", type=int, default=3000)
    args = parser.parse_args()
    load = os.getloadavg()
    print(f"# licensing benchmark {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z} on {platform.node()}, "
          f"{os.cpu_count()} cores, Python {platform.python_version()}, load before {load[0]:.1f}")
    db_url, amqp = fresh_database(), fresh_vhost()
    with tempfile.TemporaryDirectory() as tmp:
        for processes in (1, 2):
            r = coupling_rate(db_url, amqp, processes, args.requests, args.clients, Path(tmp))
            oversold = r["seats_used"] > r["seats"] or r["active_couplings"] != r["seats_used"]
            print(f"couplings over RPC, {r['processes']} process(es), {args.clients} clients: "
                  f"{r['per_second']:.0f}/s ({args.requests} couplings in {r['seconds']:.2f} s); "
                  f"{r['requests']} requests for {r['seats']} seats -> coupled {r['coupled']}, "
                  f"refused {r['no seats']}, seats_used {r['seats_used']}, "
                  f"{'OVERSOLD' if oversold else 'no oversell'}")
            print("    CPU ms per coupling: " + ", ".join(f"{k} {v:.2f}" for k, v in r["cpu_ms"].items()) +
                  f"; cores busy {r['machine_cores_busy']:.2f} of {os.cpu_count()}")
        floor = rpc_floor(db_url, amqp, args.requests, args.clients, Path(tmp))
        print(f"RPC floor, health() (one SELECT 1) over RPC, 1 process, {args.clients} clients: {floor:.0f}/s")
        rate, cpu_ms = in_process_rate(db_url, args.requests, args.clients)
        print(f"couplings in-process (rule only, no broker), {args.clients} greenthreads: {rate:.0f}/s, "
              f"CPU {cpu_ms:.2f} ms per coupling")
        e = entitlement_latency(db_url, amqp, args.lookups, Path(tmp))
        print(f"entitlement lookup, 600 pupils / 40 licences, {e['lookups']} random pupils "
              f"({e['products_per_pupil']:.1f} products each): inside the service p50 {e['p50']:.2f} ms, "
              f"p95 {e['p95']:.2f} ms, p99 {e['p99']:.2f} ms, max {e['max']:.2f} ms, "
              f"CPU {e['cpu_ms']:.2f} ms per lookup; "
              f"over RPC p50 {e['rpc_p50']:.2f} ms, p99 {e['rpc_p99']:.2f} ms")
        print(f"database floor: SELECT 1 p50 {e['ping_p50']:.2f} ms, p99 {e['ping_p99']:.2f} ms; the same two "
              f"queries with plain psycopg2 p50 {e['raw_p50']:.2f} ms, p99 {e['raw_p99']:.2f} ms")
    print(f"# load after {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
