"""nameko pieces every service uses: its database, its outbox relay, contract-checked event handlers."""
from __future__ import annotations

import logging

import eventlet
from kombu import Connection, Exchange, Queue
from marshmallow import ValidationError
from nameko.amqp.publish import Publisher
from nameko.constants import AMQP_URI_CONFIG_KEY
from nameko.events import EventHandler
from nameko.extensions import DependencyProvider
from nameko.standalone.events import get_event_exchange

from shared import config
from shared.db import make_engine, make_session_factory
from shared.events import load_event
from shared.messaging import Messaging

log = logging.getLogger(__name__)

DEAD_LETTER_EXCHANGE = "koppel.dead-letter"


class Database(DependencyProvider):
    """Gives each worker a fresh SQLAlchemy session bound to the service's own database.

    The URL comes from `<SERVICE>_DATABASE_URL` (see shared.config). The session is
    closed when the worker ends; commit explicitly (`with session.begin(): ...`).
    """

    def __init__(self, service: str):
        self.service = service

    def setup(self):
        self.engine = make_engine(config.database_url(self.service))
        self.Session = make_session_factory(self.engine)
        self.sessions = {}

    def stop(self):
        self.engine.dispose()

    def get_dependency(self, worker_ctx):
        session = self.Session()
        self.sessions[worker_ctx] = session
        return session

    def worker_teardown(self, worker_ctx):
        session = self.sessions.pop(worker_ctx, None)
        if session is not None:
            session.close()


class OutboxRelay(DependencyProvider):
    """Publishes the service's outbox to its nameko events exchange, with publisher confirms.

    Runs as a background thread of every process of the service; several processes
    share the work safely (rows are claimed with SKIP LOCKED). Injects nothing useful:
    declare it on the service so it runs with it.
    """

    def __init__(self, messaging: Messaging, interval: float | None = None, batch_size: int = 200):
        self.messaging = messaging
        self.interval = interval if interval is not None else config.float_setting("OUTBOX_POLL_SECONDS", 0.1)
        self.batch_size = batch_size
        self._thread = None

    def setup(self):
        self.engine = make_engine(config.database_url(self.messaging.service), pool_size=2, max_overflow=0)
        self.Session = make_session_factory(self.engine)
        self.publisher = Publisher(
            self.container.config[AMQP_URI_CONFIG_KEY], use_confirms=True,
            retry=True, retry_policy={"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5},
        )

    def start(self):
        self._running = True
        self._thread = self.container.spawn_managed_thread(self._run, identifier="outbox_relay")

    def stop(self):
        self._running = False
        if self._thread is not None:
            self._thread.kill()
        self.engine.dispose()

    def kill(self):
        self.stop()

    def get_dependency(self, worker_ctx):
        return self

    def publish(self, envelope: dict, source: str, event_type: str) -> None:
        exchange = get_event_exchange(source, self.container.config)
        self.publisher.publish(envelope, exchange=exchange, routing_key=event_type,
                               declare=[exchange], message_id=envelope["event_id"])

    def relay_once(self) -> int:
        return self.messaging.relay_batch(self.Session, self.publish, self.batch_size)

    def _run(self):
        backoff = self.interval
        while self._running:
            try:
                sent = self.relay_once()
                backoff = self.interval
            except Exception:  # noqa: BLE001 - the relay must outlive a database or broker outage
                log.exception("outbox relay of %s failed; retrying", self.messaging.service)
                sent = 0
                backoff = min(backoff * 2, 5.0)
            if sent < self.batch_size:
                eventlet.sleep(backoff)


ATTEMPTS_HEADER = "x-koppel-failed-attempts"


def retry_delays() -> list[float]:
    """Seconds before each retry of a failed event (`CONSUMER_RETRY_SECONDS`, default 1,10,60,300):
    a handler gets 1 + len(delays) attempts in about six minutes, then the event is dead-lettered."""
    raw = config.setting("CONSUMER_RETRY_SECONDS", "1,10,60,300")
    return [float(x) for x in raw.split(",") if x.strip()]


class ContractEventHandler(EventHandler):
    """An event handler that hands the method the envelope loaded through its contract.

    Durable queue with a dead-letter queue (`<queue>.dlq`). A message that does not match its
    contract goes there at once. A handler error (a database restart, a deadlock) is retried
    after a delay: the message goes to `<queue>.retry<n>`, a queue whose TTL dead-letters it back
    to the main queue (one queue per step, so a long delay never holds up a short one); after the
    last step it goes to the dead-letter queue. The handlers are idempotent, so a crash between
    the retry's publish and the original's ack at worst delivers the event once more.
    """

    def setup(self):
        service_name = self.container.service_name
        queue_name = f"evt-{self.source_service}-{self.event_type}--{service_name}.{self.method_name}"
        exchange = get_event_exchange(self.source_service, self.container.config)
        dlx = Exchange(DEAD_LETTER_EXCHANGE, type="direct", durable=True)
        dlq = Queue(f"{queue_name}.dlq", exchange=dlx, routing_key=queue_name, durable=True)
        self.delays = retry_delays()
        self.retry_queues = [f"{queue_name}.retry{n}" for n in range(1, len(self.delays) + 1)]
        with Connection(self.container.config[AMQP_URI_CONFIG_KEY]) as conn:
            channel = conn.default_channel
            dlq(channel).declare()
            for name, delay in zip(self.retry_queues, self.delays, strict=True):
                channel.queue_declare(name, durable=True, arguments={
                    "x-message-ttl": max(1, int(delay * 1000)),
                    "x-dead-letter-exchange": "", "x-dead-letter-routing-key": queue_name})
        self.queue = Queue(
            queue_name, exchange=exchange, routing_key=self.event_type, durable=True,
            queue_arguments={"x-dead-letter-exchange": DEAD_LETTER_EXCHANGE,
                             "x-dead-letter-routing-key": queue_name},
        )
        self.retry_publisher = Publisher(self.container.config[AMQP_URI_CONFIG_KEY])
        self.queue_consumer.register_provider(self)

    def handle_message(self, body, message):
        try:
            event = load_event(body)
        except ValidationError as exc:
            log.error("event on %s breaks its contract, dead-lettered: %s", self.queue.name, exc.messages)
            self._reject(message)
            return
        super().handle_message(event, message)

    def handle_message_processed(self, message, result=None, exc_info=None):
        if exc_info is None:
            self.queue_consumer.ack_message(message)
            return
        failed = int((message.headers or {}).get(ATTEMPTS_HEADER, 0)) + 1
        if failed > len(self.delays):
            log.error("event on %s failed %d times, dead-lettered", self.queue.name, failed)
            self._reject(message)
            return
        try:
            self.retry_publisher.publish(
                message.payload, exchange=None, routing_key=self.retry_queues[failed - 1],
                headers={**(message.headers or {}), ATTEMPTS_HEADER: failed}, serializer="json")
        except Exception:  # the broker is gone too: the plain requeue keeps the event
            log.exception("could not schedule the retry of an event on %s; requeued", self.queue.name)
            self.queue_consumer.requeue_message(message)
            return
        log.warning("event on %s failed (attempt %d), retried in %ss", self.queue.name, failed,
                    self.delays[failed - 1])
        self.queue_consumer.ack_message(message)

    def _reject(self, message):
        if message.channel.connection:
            message.reject(requeue=False)


contract_event_handler = ContractEventHandler.decorator
