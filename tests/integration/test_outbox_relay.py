"""Outbox relay on the real broker: nothing lost when publishing fails, nothing doubled by two relays."""
import eventlet
from kombu import Connection, Consumer, Queue
from nameko.amqp.publish import Publisher
from nameko.standalone.events import get_event_exchange
from sqlalchemy import func, select

from services.licensing import models as lm
from services.roster.models import messaging as roster_messaging
from tests.conftest import wait_for

PAYLOAD = {"sequence": 1, "groups": {"added": [{"key": "G1", "name": "Groep 1", "jaargroep": "1"}]}}


def _emit(sessions, n=1, school="99ZZ00"):
    with sessions["roster"]() as s, s.begin():
        return [roster_messaging.emit(s, "roster.updated", school, {**PAYLOAD, "sequence": i + 1})["event_id"]
                for i in range(n)]


def _unpublished(sessions):
    with sessions["roster"]() as s:
        return s.scalar(select(func.count()).select_from(roster_messaging.outbox)
                        .where(roster_messaging.outbox.c.published_at.is_(None)))


def test_event_committed_while_relay_is_down_is_delivered_when_it_runs(start_services, sessions):
    start_services("licensing")
    _emit(sessions)  # committed; no roster process (no relay) is running
    eventlet.sleep(0.5)
    with sessions["licensing"]() as s:
        assert s.scalar(select(func.count()).select_from(lm.RosterGroup)) == 0
    start_services("roster")

    def copied():
        with sessions["licensing"]() as s:
            return s.scalar(select(func.count()).select_from(lm.RosterGroup)) == 1

    wait_for(copied, message="event delivered after the relay started")
    assert _unpublished(sessions) == 0


def test_publish_failure_keeps_the_event_until_the_broker_is_back(start_services, sessions):
    start_services("licensing")
    roster = start_services("roster")
    relay = next(ext for ext in roster.extensions if type(ext).__name__ == "OutboxRelay")
    working = relay.publisher
    # a real broker failure: nothing listens on port 1, every publish is refused
    relay.publisher = Publisher("amqp://guest:guest@127.0.0.1:1/", retry=False)
    _emit(sessions)

    def failed_attempts():
        with sessions["roster"]() as s:
            return s.scalar(select(roster_messaging.outbox.c.attempts))

    wait_for(lambda: (failed_attempts() or 0) >= 2, message="failed publish attempts recorded")
    assert _unpublished(sessions) == 1
    relay.publisher = working

    def copied():
        with sessions["licensing"]() as s:
            return s.scalar(select(func.count()).select_from(lm.RosterGroup)) == 1

    wait_for(copied, message="delivered after the broker came back")
    assert _unpublished(sessions) == 0


def test_two_relays_publish_every_event_exactly_once(start_services, sessions, rabbit_config):
    received = []
    with Connection(rabbit_config["AMQP_URI"]) as conn:
        queue = Queue("test-tap", exchange=get_event_exchange("roster", {}), routing_key="roster.updated",
                      durable=False, auto_delete=False)
        queue(conn.default_channel).declare()
        event_ids = _emit(sessions, 300)
        start_services("roster", "roster")  # two processes' worth of relays, same database

        def collect(body, message):
            received.append(body["event_id"])
            message.ack()

        with Consumer(conn, queues=[queue], callbacks=[collect], accept=["json"]):
            deadline = eventlet.Timeout(30)
            try:
                while len(received) < 300:
                    try:
                        conn.drain_events(timeout=1)
                    except TimeoutError:
                        pass
            finally:
                deadline.cancel()
            # anything published twice would arrive now
            try:
                while True:
                    conn.drain_events(timeout=1)
            except TimeoutError:
                pass
    assert len(received) == 300
    assert sorted(received) == sorted(event_ids)
    assert _unpublished(sessions) == 0
