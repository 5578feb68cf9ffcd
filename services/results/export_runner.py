"""Runs the exporter inside every results process: a few greenthreads, each its own Exporter."""
from __future__ import annotations

import logging

import eventlet
from nameko.extensions import DependencyProvider

from services.results.export import Exporter, ExportSettings
from shared import config
from shared.db import make_engine, make_session_factory

log = logging.getLogger(__name__)


class ResultsExporter(DependencyProvider):
    """Background export of practice results to LVS couplings.

    `RESULTS_EXPORT_WORKERS` greenthreads (default 4) each claim one coupling at a time, so one
    slow LVS holds up one worker, not the others. Safe with any number of results processes
    (couplings are claimed with SKIP LOCKED). Idle workers poll every `RESULTS_EXPORT_POLL_SECONDS`.
    """

    def setup(self):
        url = config.database_url("results")
        self.workers = int(config.setting("RESULTS_EXPORT_WORKERS", "4"))
        if url.startswith("sqlite") and self.workers > 1:
            # SQLite ignores FOR UPDATE SKIP LOCKED: two workers could claim one coupling and send the
            # same results twice. The embedded default (make run) exports with one worker.
            self.workers = 1
        self.interval = config.float_setting("RESULTS_EXPORT_POLL_SECONDS", 1.0)
        self.settings = ExportSettings.from_env()
        self.engine = make_engine(url, pool_size=self.workers, max_overflow=2)
        self.Session = make_session_factory(self.engine)
        self._threads = []
        self._exporters = []

    def start(self):
        self._running = True
        for i in range(self.workers):
            exporter = Exporter(self.Session, self.settings)
            self._exporters.append(exporter)
            self._threads.append(self.container.spawn_managed_thread(
                lambda e=exporter: self._run(e), identifier=f"results_exporter_{i}"))

    def stop(self):
        self._running = False
        for thread in self._threads:
            thread.kill()
        for exporter in self._exporters:
            exporter.close()
        self.engine.dispose()

    def kill(self):
        self.stop()

    def get_dependency(self, worker_ctx):
        return self

    def _run(self, exporter: Exporter):
        pause = self.interval
        while self._running:
            try:
                busy = exporter.export_next() is not None
                pause = self.interval
            except Exception:  # noqa: BLE001 - the exporter must outlive a database outage
                log.exception("results exporter round failed; retrying")
                busy = False
                pause = min(pause * 2, 5.0)
            if not busy:
                eventlet.sleep(pause)
            else:
                eventlet.sleep(0)  # let other greenthreads (RPC, consumers) in between batches
