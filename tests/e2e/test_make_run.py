"""`make run` as a new user meets it (issue 2 "Done when"): scripts/run.sh migrates SQLite files,
starts the four services as processes, answers /health within 60 s, seeds the demo schools and
prints logins that work; scripts/stop.sh stops them. Runs on its own RabbitMQ vhost, port and var dir."""
import os
import re
import socket
import subprocess
import time

import pytest
import requests

from shared.config import PROJECT_ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def script(name: str, env: dict, timeout: int = 120) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(PROJECT_ROOT / "scripts" / name)], env=env, capture_output=True, text=True,
                          timeout=timeout, cwd=PROJECT_ROOT)


def test_make_run_starts_a_healthy_stack_with_working_demo_logins(rabbit_config, tmp_path):
    port, lvs_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.endswith("_DATABASE_URL")}  # SQLite, as on a fresh machine
    env.update(AMQP_URI=rabbit_config["AMQP_URI"], WEB_SERVER_ADDRESS=f"127.0.0.1:{port}",
               KOPPEL_VAR_DIR=str(tmp_path / "var"), DEMO_LVS_PORT=str(lvs_port), DEMO_RESULTS_EVERY_SECONDS="0.5")
    env.pop("KOPPEL_MAIL_DIR", None)
    try:
        run = script("run.sh", env)  # run.sh itself gives up when /health is not 200 within 60 s
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
        assert f"koppel is running: http://localhost:{port}" in run.stdout
        assert sorted(p.name for p in (tmp_path / "var").glob("*.db")) == \
            ["gateway.db", "licensing.db", "results.db", "roster.db"]

        base = f"http://127.0.0.1:{port}"
        health = requests.get(f"{base}/health", timeout=10)
        assert health.status_code == 200 and set(health.json()["services"].values()) == {"ok"}
        logins = re.findall(r"^\s+(\S+@\S+)\s+(\S+)\s+(.+)$", run.stdout, re.M)
        assert len(logins) >= 2, run.stdout
        for email, password, _ in logins:
            session = requests.Session()
            answer = session.post(f"{base}/api/v1/session", json={"email": email, "password": password}, timeout=10)
            assert answer.status_code == 201, (email, answer.text)
        coordinator = next(e for e, _, what in logins if "ICT" in what)
        session = requests.Session()
        info = session.post(f"{base}/api/v1/session", json={"email": coordinator, "password": dict(
            (e, p) for e, p, _ in logins)[coordinator]}, timeout=10).json()
        session.headers["X-CSRF-Token"] = info["csrf_token"]
        page = session.get(f"{base}/school", timeout=10)
        assert page.status_code == 200 and "Selecteer school" in page.text

        # seed §5 on the demo: consent, a coupling to (the demo's) Momento with its key, results go out
        chosen = session.put(f"{base}/api/v1/session/school", json={"school_id": "99ZZ00"}, timeout=10)
        assert chosen.status_code == 200, chosen.text
        api = f"{base}/api/v1/schools/99ZZ00"
        assert session.put(f"{api}/consent", json={"given": True}, timeout=10).status_code == 200
        added = session.post(f"{api}/lvs-couplings", json={"lvs": "momento",
                                                           "authorisation_key": "DEMO-MOMENTO-SLEUTEL"}, timeout=10)
        assert added.status_code == 201, added.text
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            (coupling,) = session.get(f"{api}/lvs-couplings", timeout=10).json()["items"]
            if coupling["last_export_count"]:
                break
            time.sleep(0.5)
        assert coupling["status"] == "active" and (coupling["last_export_count"] or 0) > 0, coupling
        time.sleep(3)  # a few more batches
        stats = requests.get(f"http://127.0.0.1:{lvs_port}/stats", timeout=5).json()
        assert stats["refused"] == 0 and stats["results"] == stats["distinct_results"] > 0, stats  # each result once
    finally:
        stopped = script("stop.sh", env)
    assert stopped.returncode == 0, stopped.stdout
    assert sorted(re.findall(r"stopped (\S+)", stopped.stdout)) == [
        "demo-learning-app", "demo-lvs", "gateway", "licensing", "results", "roster"], stopped.stdout
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}/health", timeout=3)


def test_make_run_without_rabbitmq_says_so_in_one_line(tmp_path):
    env = {**os.environ, "AMQP_URI": "amqp://guest:guest@127.0.0.1:1/", "KOPPEL_VAR_DIR": str(tmp_path / "var")}
    run = script("run.sh", env, timeout=60)
    assert run.returncode == 1
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "RabbitMQ is not reachable" in lines[0] and "rabbitmq-server -detached" in lines[0]
