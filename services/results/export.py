"""The exporter: practice results owed to LVS couplings go out in batches, once per coupling.

One round (`export_next`) claims one coupling that has results waiting, holds its `lvs_senders`
row (FOR UPDATE SKIP LOCKED) while it builds, validates and sends one batch, and records the
outcome in the same transaction: the deliveries get the batch id, or the coupling gets its
new status (key rejected, or retrying with backoff). Any number of exporters, in one or many
processes, share the work; two never send to the same coupling at once, and a crash before the
commit leaves the batch owed (it is sent again, with the same resultaat keys, so an LVS can
recognise it). The coupling row itself is only touched briefly at the end, so a coordinator
changing the key never waits for an LVS; `key_version` keeps an answer to the old key from
overriding the new key's status.
"""
from __future__ import annotations

import datetime as dt
import logging
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import requests
from sqlalchemy import and_, exists, select, update
from sqlalchemy.orm import Session

from services.results import lvs_client, uwlr
from services.results import models as m
from services.results.lvs_couplings import ACTIVE, KEY_REJECTED, RETRYING, configured_endpoint
from services.results.models import messaging
from shared import config, secrets
from shared.messaging import utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExportSettings:
    batch_size: int = 1000
    timeout: float = 30.0
    retry_base: float = 10.0
    retry_max: float = 900.0
    klantcode: str = "koppel"
    klantnaam: str = "koppel"

    @classmethod
    def from_env(cls) -> ExportSettings:
        return cls(batch_size=int(config.setting("RESULTS_EXPORT_BATCH_SIZE", "1000")),
                   timeout=config.float_setting("RESULTS_LVS_TIMEOUT_SECONDS", 30.0),
                   retry_base=config.float_setting("RESULTS_RETRY_BASE_SECONDS", 10.0),
                   retry_max=config.float_setting("RESULTS_RETRY_MAX_SECONDS", 900.0),
                   klantcode=config.setting("UWLR_KLANTCODE", "koppel"),
                   klantnaam=config.setting("UWLR_KLANTNAAM", "koppel"))


def backoff(attempts: int, base: float, maximum: float) -> float:
    """Seconds to wait after the `attempts`-th failure in a row: doubling, capped, with jitter
    (downwards, so the cap holds) so that couplings of one LVS do not all retry at once."""
    delay = min(base * 2 ** max(attempts - 1, 0), maximum)
    return delay * random.uniform(0.8, 1.0)


def redact(text: str, key: str) -> str:
    """An LVS may quote the key back in its fault; it must not reach our tables or logs."""
    return text.replace(key, secrets.hint(key)) if key else text


class Exporter:
    """Exports one batch per call of `export_next`; create one per greenthread/thread (own HTTP session)."""

    def __init__(self, session_factory: Callable[[], Session], settings: ExportSettings | None = None,
                 http: requests.Session | None = None):
        self.Session = session_factory
        self.settings = settings or ExportSettings.from_env()
        self.http = http or requests.Session()

    def close(self) -> None:
        self.http.close()

    def export_next(self) -> int | None:
        """Send one batch for one coupling with results waiting; returns how many results the LVS
        confirmed (0 when it failed), or None when no coupling has work now."""
        with self.Session() as session, session.begin():
            coupling_id = self._claim(session)
            if coupling_id is None:
                return None
            coupling = session.get(m.LvsCoupling, coupling_id)
            rows = self._pending(session, coupling_id)
            if not rows:
                return None
            return self._send_batch(session, coupling, rows)

    def export_all(self, max_rounds: int = 1_000_000) -> int:
        """Export until no coupling has work that is due; returns results delivered (for the CLI and benches)."""
        total = 0
        for _ in range(max_rounds):
            sent = self.export_next()
            if sent is None:
                break
            total += sent
        return total

    # --- steps --------------------------------------------------------------------------

    def _claim(self, session: Session) -> str | None:
        d = m.ResultDelivery
        c = m.LvsCoupling
        return session.scalar(
            select(m.LvsSender.coupling_id)
            .join(c, c.id == m.LvsSender.coupling_id)
            .join(m.SchoolConsent, and_(m.SchoolConsent.school_id == c.school_id, m.SchoolConsent.given.is_(True)))
            .where(c.removed_at.is_(None), c.status.in_((ACTIVE, RETRYING)), c.next_attempt_at <= utcnow(),
                   exists().where(d.coupling_id == m.LvsSender.coupling_id, d.batch_id.is_(None)))
            .order_by(c.next_attempt_at)
            .limit(1)
            .with_for_update(of=m.LvsSender, skip_locked=True))

    def _pending(self, session: Session, coupling_id: str) -> list:
        d, r = m.ResultDelivery, m.PracticeResult
        # the owed ids come from the partial index first; joining the other way round makes
        # PostgreSQL scan every stored result per batch
        owed = (select(d.result_id).where(d.coupling_id == coupling_id, d.batch_id.is_(None))
                .order_by(d.result_id).limit(self.settings.batch_size))
        rows = session.execute(
            select(r.id, r.result_key, r.pupil_key, r.eckid, r.method, r.exercise_code, r.exercise_name,
                   r.score, r.taken_on)
            .where(r.id.in_(owed))
            .order_by(r.id)).all()
        if not rows:
            return rows
        year = uwlr.school_year(rows[0].taken_on)  # one message carries one school year
        return [row for row in rows if uwlr.school_year(row.taken_on) == year]

    def _send_batch(self, session: Session, coupling: m.LvsCoupling, rows: list) -> int:
        started = utcnow()
        batch_id = str(uuid.uuid4())
        try:
            key = secrets.decrypt(coupling.key_encrypted)
        except ValueError as exc:
            return self._failed(session, coupling, batch_id, len(rows), started,
                                lvs_client.Delivery(False, "key_unreadable", str(exc)), "")
        auth = uwlr.Authorisation(key, self.settings.klantcode, self.settings.klantnaam)
        results = [uwlr.Result(row.result_key, row.pupil_key, row.eckid, row.method, row.exercise_code,
                               row.exercise_name, row.score, row.taken_on) for row in rows]
        try:
            message = uwlr.build_request(coupling.school_id, uwlr.school_year(rows[0].taken_on), results, auth,
                                         started)
            uwlr.validate(message)
        except (uwlr.InvalidMessage, ValueError) as exc:  # ValueError: lxml refuses a character; both visible
            outcome = lvs_client.Delivery(False, "invalid_message",
                                          f"message not sent, it cannot be built or breaks the XSD: {exc}"[:1000])
            return self._failed(session, coupling, batch_id, len(rows), started, outcome, key)
        url = coupling.endpoint_url or configured_endpoint(coupling.lvs)
        if not url:
            outcome = lvs_client.Delivery(False, "network", "no endpoint configured for this LVS")
        else:
            outcome = lvs_client.send(self.http, url, message, self.settings.timeout)
        if not outcome.ok:
            return self._failed(session, coupling, batch_id, len(rows), started, outcome, key)
        return self._succeeded(session, coupling, batch_id, [row.id for row in rows], started)

    def _succeeded(self, session: Session, coupling: m.LvsCoupling, batch_id: str, result_ids: list[int],
                   started: dt.datetime) -> int:
        now = utcnow()
        session.add(m.ExportBatchRecord(id=batch_id, coupling_id=coupling.id, school_id=coupling.school_id,
                                        result_count=len(result_ids), outcome="sent", started_at=started,
                                        finished_at=now))
        session.flush()
        session.execute(update(m.ResultDelivery)
                        .where(m.ResultDelivery.coupling_id == coupling.id, m.ResultDelivery.result_id.in_(result_ids),
                               m.ResultDelivery.batch_id.is_(None))
                        .values(batch_id=batch_id))
        session.execute(update(m.LvsCoupling).where(m.LvsCoupling.id == coupling.id).values(
            last_export_at=now, last_export_count=len(result_ids), attempts=0, last_error=None,
            status=ACTIVE, next_attempt_at=now))
        messaging.emit(session, "results.export_succeeded", coupling.school_id, {
            "batch_id": batch_id, "coupling_id": coupling.id, "lvs": coupling.lvs, "result_count": len(result_ids)})
        log.info("exported %d results of %s to coupling %s (%s)", len(result_ids), coupling.school_id,
                 coupling.id, coupling.lvs)
        return len(result_ids)

    def _failed(self, session: Session, coupling: m.LvsCoupling, batch_id: str, count: int,
                started: dt.datetime, outcome: lvs_client.Delivery, key: str) -> int:
        now = utcnow()
        error = redact(outcome.error or outcome.failure, key)
        attempts = coupling.attempts + 1
        if outcome.failure == "key_rejected":
            status, next_at = KEY_REJECTED, None
        else:
            status = RETRYING
            next_at = now + dt.timedelta(seconds=backoff(attempts, self.settings.retry_base, self.settings.retry_max))
        session.add(m.ExportBatchRecord(id=batch_id, coupling_id=coupling.id, school_id=coupling.school_id,
                                        result_count=count, outcome="failed", failure=outcome.failure, error=error,
                                        started_at=started, finished_at=now))
        applied = session.execute(
            update(m.LvsCoupling)
            .where(m.LvsCoupling.id == coupling.id, m.LvsCoupling.key_version == coupling.key_version)
            .values(status=status, attempts=attempts, last_error=error, next_attempt_at=next_at or now)).rowcount
        if not applied:  # the key was changed while we were sending: the new key gets its chance now
            status, next_at, attempts = RETRYING, now, 1
        messaging.emit(session, "results.export_failed", coupling.school_id, {
            "batch_id": batch_id, "coupling_id": coupling.id, "lvs": coupling.lvs, "result_count": count,
            "failure": outcome.failure, "error": error, "status": status, "attempts": attempts,
            "next_attempt_at": next_at})
        log.warning("export of %d results of %s to coupling %s failed (%s), now %s", count, coupling.school_id,
                    coupling.id, outcome.failure, status)
        return 0
