"""Pupil logins: what the Printversie, the learning app's verify and the nightly import cost.

Runs a real roster service container on its own RabbitMQ vhost (created and removed through the
management API, so nothing else's services answer) against a fresh PostgreSQL database, and prints:
- login_sheet_pdf for a 30-pupil group: reportlab alone, and the RPC end to end;
- verify_pupil_login: one caller in a row, and 20 callers at once (different pupils);
- group_logins for 30 pupils over RPC;
- the import hook: logins for 500 new pupils inside sync_school.

Environment: KOPPEL_BENCH_PG (default postgresql+psycopg2://postgres@127.0.0.1:5432),
KOPPEL_BENCH_RABBIT (default guest:guest@127.0.0.1, ports 5672 and 15672).
"""
import eventlet

eventlet.monkey_patch()

import os  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

warnings.filterwarnings("ignore")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("KOPPEL_VAR_DIR", tempfile.mkdtemp(prefix="koppel-bench-logins-"))

import requests  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

PG = os.environ.get("KOPPEL_BENCH_PG", "postgresql+psycopg2://postgres@127.0.0.1:5432")
RABBIT = os.environ.get("KOPPEL_BENCH_RABBIT", "guest:guest@127.0.0.1")
DB = "koppel_bench_logins"
VHOST = f"koppel-bench-logins-{uuid.uuid4().hex[:8]}"


def ms(values: list[float]) -> str:
    values = sorted(values)
    p95 = values[min(len(values) - 1, int(len(values) * 0.95))]
    return f"median {statistics.median(values) * 1000:7.1f} ms   p95 {p95 * 1000:7.1f} ms   (n={len(values)})"


def timed(fn, n: int) -> list[float]:
    out = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def fresh_database() -> str:
    admin = create_engine(f"{PG}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{DB}"'))
    admin.dispose()
    url = f"{PG}/{DB}"
    from shared.migrations import upgrade

    upgrade("roster", url)
    os.environ["ROSTER_DATABASE_URL"] = url
    return url


def management(method: str, path: str, **kw):
    user, host = RABBIT.split("@")
    response = requests.request(method, f"http://{host}:15672/api/{path}", auth=tuple(user.split(":")),
                                timeout=10, **kw)
    response.raise_for_status()


def school(pupils: int, groups: int = 1, brin: str = "12AB"):
    from services.roster.snapshot import Group, Pupil, RosterSnapshot, SchoolInfo

    snap = RosterSnapshot(SchoolInfo(brin, "00", "Benchschool", "2026-2027"))
    for g in range(groups):
        snap.groups[f"g{g}"] = Group(f"g{g}", f"Groep {g}", "5")
    for i in range(pupils):
        key = f"p{i:04d}"
        snap.pupils[key] = Pupil(key, f"Achternaam{i}", f"Voornaam{i}", None, "5", f"g{i % groups}")
    return snap


def main() -> None:
    from nameko.containers import ServiceContainer
    from nameko.standalone.rpc import ServiceRpcProxy

    from services.roster import login_sheet, logins, store
    from services.roster.service import RosterService
    from shared.db import make_engine, make_session_factory

    fresh_database()
    Session = make_session_factory(make_engine(os.environ["ROSTER_DATABASE_URL"]))
    print(f"pupil logins bench — {time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores")

    # the import hook: logins for 500 new pupils, inside one sync
    hook_times = []
    real_hook = logins.on_roster_applied

    def timed_hook(*args, **kwargs):
        start = time.perf_counter()
        real_hook(*args, **kwargs)
        hook_times.append(time.perf_counter() - start)

    logins.on_roster_applied = timed_hook
    start = time.perf_counter()
    with Session() as s, s.begin():
        store.sync_school(s, school(500, groups=17, brin="56EF"), guard=False)
    total = time.perf_counter() - start
    logins.on_roster_applied = real_hook
    print(f"sync_school, 500 new pupils: {total * 1000:.0f} ms in all, of which logins (1000 Fernet tokens "
          f"+ insert) {hook_times[0] * 1000:.0f} ms")

    with Session() as s, s.begin():
        store.sync_school(s, school(30), guard=False)

    data = None
    with Session() as s, s.begin():
        data = logins.group_logins(s, "12AB00", "g0")
    half = [dict(p, login_method="pictures") if i % 2 else p for i, p in enumerate(data["pupils"])]
    render_times = timed(lambda: login_sheet.render(data, "Benchschool"), 20)
    mixed_times = timed(lambda: login_sheet.render(dict(data, pupils=half), "Benchschool"), 20)
    size = len(login_sheet.render(data, "Benchschool"))
    print(f"PDF render, 30 pupils (pincodes, 3 pages, {size / 1024:.0f} KiB):   {ms(render_times)}")
    print(f"PDF render, 30 pupils (half drawn pictures):        {ms(mixed_times)}")

    management("PUT", f"vhosts/{VHOST}")
    management("PUT", f"permissions/{VHOST}/{RABBIT.split(':')[0]}",
               json={"configure": ".*", "write": ".*", "read": ".*"})
    user, host = RABBIT.split("@")
    config = {"AMQP_URI": f"amqp://{user}@{host}:5672/{VHOST}", "serializer": "json", "max_workers": 20}
    container = ServiceContainer(RosterService, config)
    container.start()
    try:
        with ServiceRpcProxy("roster", config) as roster:
            roster.group_logins("12AB00", "g0")  # warm up
            print(f"RPC group_logins, 30 pupils:                         "
                  f"{ms(timed(lambda: roster.group_logins('12AB00', 'g0'), 50))}")
            print(f"RPC login_sheet_pdf, 30 pupils (DB + PDF + base64): "
                  f"{ms(timed(lambda: roster.login_sheet_pdf('12AB00', 'g0'), 20))}")
            pupil = data["pupils"][0]

            def verify_once():
                assert roster.verify_pupil_login("12AB00", pupil["key"], pincode=pupil["pincode"])["valid"]

            print(f"RPC verify_pupil_login, one caller:                  {ms(timed(verify_once, 200))}")

        def verify(p):
            with ServiceRpcProxy("roster", config) as proxy:
                start = time.perf_counter()
                for _ in range(10):
                    assert proxy.verify_pupil_login("12AB00", p["key"], pincode=p["pincode"])["valid"]
                return (time.perf_counter() - start) / 10

        start = time.perf_counter()
        latencies = list(eventlet.GreenPool(20).imap(verify, data["pupils"][:20]))
        elapsed = time.perf_counter() - start
        print(f"RPC verify_pupil_login, 20 callers x 10:             {ms(latencies)}   "
              f"-> {200 / elapsed:.0f} verifications/s")
    finally:
        container.stop()
        management("DELETE", f"vhosts/{VHOST}")


if __name__ == "__main__":
    main()
