"""Real service processes (`nameko run`) on the test's RabbitMQ vhost and PostgreSQL databases."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import yaml

from shared.config import PROJECT_ROOT
from tests.conftest import wait_for


class ServiceProcesses:
    def __init__(self, rabbit_config: dict, rabbit_manager, pg_urls: dict, workdir: Path):
        self.rabbit_config = rabbit_config
        self.rabbit_manager = rabbit_manager
        self.pg_urls = pg_urls
        self.workdir = workdir
        self.procs: list[subprocess.Popen] = []

    def start(self, service: str, count: int = 1, extra_config: dict | None = None) -> list[subprocess.Popen]:
        config = self.workdir / f"{service}.yml"
        config.write_text(yaml.safe_dump({"AMQP_URI": self.rabbit_config["AMQP_URI"], "serializer": "json",
                                          "max_workers": 20, **(extra_config or {})}))
        env = {**os.environ, "PYTHONWARNINGS": "ignore", "KOPPEL_VAR_DIR": str(self.workdir / "var"),
               **{f"{name.upper()}_DATABASE_URL": url for name, url in self.pg_urls.items()}}
        started = []
        for i in range(count):
            log = open(self.workdir / f"{service}-{i}.log", "wb")  # noqa: SIM115 - closed with the process
            proc = subprocess.Popen([sys.executable, "-m", "nameko", "run", "--config", str(config),
                                     f"services.{service}.service"], cwd=PROJECT_ROOT, env=env,
                                    stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
            proc.log = log
            self.procs.append(proc)
            started.append(proc)
        expected = len([p for p in self.procs if p.args[-1] == f"services.{service}.service"])
        wait_for(lambda: self._consumers(f"rpc-{service}") >= expected and self._alive(), timeout=30,
                 interval=0.5, message=f"{expected} {service} processes consuming")
        return started

    def _alive(self) -> bool:
        dead = [p for p in self.procs if p.poll() is not None]
        if dead:
            raise AssertionError(f"service process exited: {Path(dead[0].log.name).read_text()[-2000:]}")
        return True

    def _consumers(self, queue: str) -> int:
        try:
            return self.rabbit_manager.get_queue(self.rabbit_config["vhost"], queue).get("consumers", 0)
        except Exception:  # noqa: BLE001 - the queue does not exist until the first process declares it
            return 0

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            proc.log.close()
