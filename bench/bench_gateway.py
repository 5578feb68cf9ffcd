"""Load test of the gateway: the licence list of one school, logged in, everything on this machine.

Starts roster, licensing and gateway as separate `nameko run` processes (as in production) on a
RabbitMQ vhost of its own and fresh PostgreSQL databases, seeds the demo school (16 licences),
logs in as its ICT coordinator, then drives `wrk` (Debian package) with the session cookie:

1. GET /api/v1/schools/99ZZ00/licences  (session lookup + RPC to licensing + its query + JSON)
2. GET /api/v1/session                   (session lookup only: the gateway without the RPC hop)

and breaks one request down (sequential, in-process timers): RPC round trip to licensing, the
licensing query and dump alone, the gateway's session lookup, and the gateway's schema dump + JSON.
Prints figures; asserts nothing. Options: --seconds 20 --connections 32 --threads 2.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
from procstat import cpu_seconds  # bench/ is on sys.path when run as a script

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PG = os.environ.get("KOPPEL_BENCH_PG", "postgresql+psycopg2://postgres@127.0.0.1:5432")
PREFIX = os.environ.get("KOPPEL_BENCH_DB_PREFIX", "koppel_bench_gw")
VHOST = "koppel-bench-gateway"
PORT = int(os.environ.get("KOPPEL_BENCH_PORT", "8417"))
SCHOOL = "99ZZ00"
EMAIL, PASSWORD = "e.meeuwsen@regenboog.example", "bench-wachtwoord-1"
SERVICES = ("roster", "licensing", "gateway")

LUA = """
done = function(summary, latency, requests)
  io.write(string.format("RESULT %d %d %.3f %.3f %.3f %.3f %d %d\\n", summary.requests, summary.duration,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.timeout))
end
"""


def sh(*args, **kw):
    return subprocess.run(args, check=True, **kw)


def fresh_databases() -> dict[str, str]:
    from sqlalchemy import create_engine, text

    from shared.migrations import upgrade

    admin = create_engine(f"{PG}/postgres", isolation_level="AUTOCOMMIT")
    urls = {}
    with admin.connect() as conn:
        for service in ("roster", "licensing", "results", "gateway"):
            name = f"{PREFIX}_{service}"
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
            urls[service] = f"{PG}/{name}"
    admin.dispose()
    for service, url in urls.items():
        upgrade(service, url)
    return urls


def vhost() -> str:
    subprocess.run(["rabbitmqctl", "delete_vhost", VHOST], capture_output=True)
    sh("rabbitmqctl", "add_vhost", VHOST, capture_output=True)
    sh("rabbitmqctl", "set_permissions", "-p", VHOST, "guest", ".*", ".*", ".*", capture_output=True)
    return f"amqp://guest:guest@localhost:5672/{VHOST}"


def start(env: dict, log_dir: Path, gateways: int) -> list[subprocess.Popen]:
    """The services; the last `gateways` processes are gateways sharing the port (SO_REUSEPORT)."""
    procs = []
    for service in SERVICES[:-1] + ("gateway",) * gateways:
        log = open(log_dir / f"{service}-{len(procs)}.log", "w")  # noqa: SIM115 - lives as long as the process
        procs.append(subprocess.Popen([str(ROOT / ".venv/bin/nameko"), "run", "--config", str(ROOT / "config.yml"),
                                       f"services.{service}.service"], env=env, cwd=ROOT, stdout=log, stderr=log,
                                      start_new_session=True))
    return procs


def stop(procs) -> None:
    for p in procs:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)


def seed(env: dict, base: str) -> requests.Session:
    koppel = str(ROOT / ".venv/bin/koppel")
    sh(koppel, "roster", "import", str(ROOT / "scripts/demo/demoschool.xml"), "--name", "Demoschool De Regenboog",
       env=env, stdout=subprocess.DEVNULL)
    from nameko.standalone.rpc import ClusterRpcProxy

    from scripts.seed_demo import licences

    with ClusterRpcProxy({"AMQP_URI": env["AMQP_URI"], "serializer": "json"}, timeout=30) as rpc:
        for licence in licences(SCHOOL):
            rpc.licensing.register_licence(licence)
    sh(koppel, "accounts", "set-password", EMAIL, input=f"{PASSWORD}\n{PASSWORD}\n", text=True, env=env,
       capture_output=True)
    http = requests.Session()
    info = http.post(f"{base}/api/v1/session", json={"email": EMAIL, "password": PASSWORD}, timeout=10)
    info.raise_for_status()
    assert http.get(f"{base}/api/v1/schools/{SCHOOL}/licences?per_page=200", timeout=10).status_code == 200
    return http


def wrk(url: str, cookie: str, seconds: int, connections: int, threads: int) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(LUA)
    out = subprocess.run(["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "-s", script.name,
                          "-H", f"Cookie: koppel_session={cookie}", url], capture_output=True, text=True, check=True)
    os.unlink(script.name)
    n, micros, p50, p95, p99, worst, bad_status, socket_errors = re.search(r"RESULT (.*)", out.stdout).group(1).split()
    return {"requests": int(n), "rps": int(n) / (int(micros) / 1e6), "p50": float(p50), "p95": float(p95),
            "p99": float(p99), "max": float(worst), "non_2xx": int(bad_status), "socket_errors": int(socket_errors)}


def breakdown(env: dict, urls: dict, http: requests.Session, base: str, n: int = 300) -> dict:
    """Sequential timings (ms, median) of one request and of its parts."""
    os.environ.update({f"{s.upper()}_DATABASE_URL": u for s, u in urls.items()})
    from nameko.standalone.rpc import ClusterRpcProxy

    from services.gateway import schemas, websessions
    from services.gateway.queries import page_list
    from services.licensing import licences
    from shared.db import make_engine, make_session_factory

    def median_ms(fn) -> float:
        fn()
        samples = []
        for _ in range(n):
            t0 = time.perf_counter()
            fn()
            samples.append((time.perf_counter() - t0) * 1000)
        return statistics.median(samples)

    url = f"{base}/api/v1/schools/{SCHOOL}/licences"
    figures = {"http_licences": median_ms(lambda: http.get(url, timeout=10)),
               "http_session_only": median_ms(lambda: http.get(f"{base}/api/v1/session", timeout=10))}
    with ClusterRpcProxy({"AMQP_URI": env["AMQP_URI"], "serializer": "json"}, timeout=30) as rpc:
        items = rpc.licensing.list_licences(SCHOOL, None, False)
        figures["rpc_list_licences"] = median_ms(lambda: rpc.licensing.list_licences(SCHOOL, None, False))
        figures["rpc_health"] = median_ms(lambda: rpc.licensing.health())
    lic_engine = make_engine(urls["licensing"])
    lic_sessions = make_session_factory(lic_engine)

    def licensing_query():
        with lic_sessions() as s:
            licences.list_licences(s, SCHOOL)
    figures["licensing_query_and_dump"] = median_ms(licensing_query)
    gw_engine = make_engine(urls["gateway"])
    gw_sessions = make_session_factory(gw_engine)
    token = http.cookies.get("koppel_session")

    def session_lookup():
        with gw_sessions() as s:
            websessions.find(s, token)
            s.commit()
    figures["gateway_session_lookup"] = median_ms(session_lookup)
    figures["gateway_dump_and_json"] = median_ms(
        lambda: json.dumps(schemas.LicencePage().dump(page_list(items, 1, 50)), default=str))
    lic_engine.dispose()
    gw_engine.dispose()
    figures["licences_in_answer"] = len(items)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--gateways", type=int, default=1, help="gateway processes sharing the port")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("bench_gateway needs wrk: apt-get install wrk")
    urls = fresh_databases()
    base = f"http://127.0.0.1:{PORT}"
    env = {**os.environ, "AMQP_URI": vhost(), "WEB_SERVER_ADDRESS": f"127.0.0.1:{PORT}", "PYTHONWARNINGS": "ignore",
           "KOPPEL_VAR_DIR": tempfile.mkdtemp(prefix="bench-gw-"), "LOG_LEVEL": "WARNING",
           **{f"{s.upper()}_DATABASE_URL": u for s, u in urls.items()}}
    procs = start(env, Path(env["KOPPEL_VAR_DIR"]), args.gateways)
    names = SERVICES[:-1] + tuple(f"gateway{i + 1}" if args.gateways > 1 else "gateway" for i in range(args.gateways))
    try:
        for _ in range(120):
            try:
                if requests.get(f"{base}/api/v1/openapi.json", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.5)
        http = seed(env, base)
        cookie = http.cookies.get("koppel_session")
        print(f"gateway bench: {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores, wrk -t{args.threads} "
              f"-c{args.connections} -d{args.seconds}s; {args.gateways} gateway and 1 licensing process(es); "
              f"PostgreSQL, RabbitMQ; licence list cache {env.get('LICENCE_LIST_CACHE_SECONDS', '1')} s, session cache "
              f"{env.get('SESSION_CACHE_SECONDS', '1')} s")
        for name, path in (("licence list", f"/api/v1/schools/{SCHOOL}/licences"),
                           ("session only", "/api/v1/session")):
            cpu_before = {s: cpu_seconds(p.pid) for s, p in zip(names, procs, strict=True)}
            r = wrk(base + path, cookie, args.seconds, args.connections, args.threads)
            cpu = {s: (cpu_seconds(p.pid) - cpu_before[s]) * 1000 / max(1, r["requests"])
                   for s, p in zip(names, procs, strict=True)}
            print(f"  {name:13} {r['rps']:7.0f} req/s  p50 {r['p50']:6.1f} ms  p95 {r['p95']:6.1f} ms  "
                  f"p99 {r['p99']:6.1f} ms  max {r['max']:6.1f} ms  ({r['requests']} requests, "
                  f"{r['non_2xx']} non-2xx, {r['socket_errors']} socket errors)")
            print("  " + " " * 13 + " CPU ms per request: " + ", ".join(f"{s} {v:.2f}" for s, v in cpu.items()))
        if os.environ.get("KOPPEL_BENCH_PROFILE"):  # py-spy record of the gateway while under load
            spy = subprocess.Popen(["py-spy", "record", "--format", "raw", "-o", os.environ["KOPPEL_BENCH_PROFILE"],
                                    "-d", str(args.seconds), "-p", str(procs[-1].pid)])
            wrk(base + f"/api/v1/schools/{SCHOOL}/licences", cookie, args.seconds, args.connections, args.threads)
            spy.wait()
        print("  one request, sequential, median ms:")
        for key, value in breakdown(env, urls, http, base).items():
            print(f"    {key:26} {value:8.2f}" if isinstance(value, float) else f"    {key:26} {value:8}")
    finally:
        stop(procs)
        subprocess.run(["rabbitmqctl", "delete_vhost", VHOST], capture_output=True)


if __name__ == "__main__":
    main()
