"""Outbox relay throughput: events drained from PostgreSQL to RabbitMQ with publisher confirms.

Prints figures; never asserts. Uses its own PostgreSQL database and RabbitMQ vhost (`koppel_bench`).
Run: .venv/bin/python bench/bench_outbox.py [N]
"""
import eventlet

eventlet.monkey_patch()

import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

from kombu import Connection, Queue  # noqa: E402
from nameko.amqp.publish import Publisher  # noqa: E402
from nameko.standalone.events import get_event_exchange  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from services.roster.models import messaging  # noqa: E402
from shared.db import make_engine, make_session_factory  # noqa: E402
from shared.migrations import upgrade  # noqa: E402

N = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
PG = "postgresql+psycopg2://postgres@127.0.0.1:5432"
DB = "koppel_bench_outbox"
VHOST = "koppel_bench"
PAYLOAD = {"sequence": 1, "groups": {"added": [{"key": "G1", "name": "Groep 1", "jaargroep": "1"}]}}


def main():
    admin = create_engine(f"{PG}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)'))
        c.execute(text(f'CREATE DATABASE "{DB}"'))
    upgrade("roster", f"{PG}/{DB}")
    subprocess.run(["rabbitmqctl", "-q", "add_vhost", VHOST], capture_output=True)
    subprocess.run(["rabbitmqctl", "-q", "set_permissions", "-p", VHOST, "guest", ".*", ".*", ".*"], check=True)
    amqp = f"amqp://guest:guest@localhost:5672/{VHOST}"
    Session = make_session_factory(make_engine(f"{PG}/{DB}"))

    t0 = time.perf_counter()
    with Session() as s, s.begin():
        for i in range(N):
            messaging.emit(s, "roster.updated", "99ZZ00", {**PAYLOAD, "sequence": i + 1})
    t_emit = time.perf_counter() - t0

    exchange = get_event_exchange("roster", {})
    with Connection(amqp) as conn:
        q = Queue("bench-tap", exchange=exchange, routing_key="roster.updated", durable=False)
        q(conn.default_channel).declare()
        q(conn.default_channel).purge()
    publisher = Publisher(amqp, use_confirms=True)

    def publish(envelope, source, event_type):
        publisher.publish(envelope, exchange=exchange, routing_key=event_type, declare=[exchange],
                          message_id=envelope["event_id"])

    t0 = time.perf_counter()
    sent = 0
    while sent < N:
        sent += messaging.relay_batch(Session, publish, 200)
    t_relay = time.perf_counter() - t0
    with Connection(amqp) as conn:
        count = conn.default_channel.queue_declare("bench-tap", passive=True).message_count
        conn.default_channel.queue_delete("bench-tap")

    print(f"events: {N}")
    print(f"emit (outbox insert, one transaction): {t_emit:.2f} s = {N / t_emit:,.0f} events/s")
    print(f"relay (publish with confirms + stamp): {t_relay:.2f} s = {N / t_relay:,.0f} events/s")
    print(f"messages in the tap queue: {count}")


if __name__ == "__main__":
    main()
