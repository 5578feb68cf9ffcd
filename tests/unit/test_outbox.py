"""Outbox logic with an in-process SQLite database and a fake publisher (no broker)."""
import json

import pytest
from sqlalchemy import MetaData, create_engine, select
from sqlalchemy.orm import sessionmaker

from shared.messaging import Messaging

PAYLOAD = {"sequence": 1}


@pytest.fixture
def outbox():
    metadata = MetaData()
    messaging = Messaging("roster", metadata)
    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    return messaging, sessionmaker(engine)


def rows(messaging, Session):
    with Session() as s:
        return s.execute(select(messaging.outbox)).all()


def test_event_is_written_only_when_the_change_commits(outbox):
    messaging, Session = outbox
    with Session() as s:
        s.begin()
        messaging.emit(s, "roster.updated", "99ZZ00", PAYLOAD)
        s.rollback()
    assert rows(messaging, Session) == []
    with Session() as s, s.begin():
        envelope = messaging.emit(s, "roster.updated", "99ZZ00", PAYLOAD)
    [row] = rows(messaging, Session)
    assert json.loads(row.body) == envelope and row.published_at is None


def test_relay_publishes_in_order_and_stamps(outbox):
    messaging, Session = outbox
    with Session() as s, s.begin():
        ids = [messaging.emit(s, "roster.updated", "99ZZ00", {"sequence": i + 1})["event_id"] for i in range(5)]
    sent = []
    assert messaging.relay_batch(Session, lambda env, src, typ: sent.append((env["event_id"], src, typ))) == 5
    assert sent == [(i, "roster", "roster.updated") for i in ids]
    assert all(r.published_at is not None for r in rows(messaging, Session))
    assert messaging.relay_batch(Session, lambda *a: sent.append(a)) == 0
    assert len(sent) == 5


def test_failed_publish_stamps_only_what_the_broker_confirmed(outbox):
    messaging, Session = outbox
    with Session() as s, s.begin():
        for i in range(4):
            messaging.emit(s, "roster.updated", "99ZZ00", {"sequence": i + 1})
    calls = []

    def flaky(envelope, source, event_type):
        calls.append(envelope["event_id"])
        if len(calls) == 3:
            raise ConnectionError("broker gone")

    assert messaging.relay_batch(Session, flaky) == 2
    state = rows(messaging, Session)
    assert [r.published_at is not None for r in state] == [True, True, False, False]
    assert state[2].attempts == 1 and "broker gone" in state[2].last_error
    resent = []
    assert messaging.relay_batch(Session, lambda env, *_: resent.append(env["event_id"])) == 2
    assert resent == calls[2:] + [json.loads(state[3].body)["event_id"]]
    with Session() as s:
        assert messaging.pending_count(s) == 0


def test_first_delivery_is_recorded_once_per_consumer(outbox):
    messaging, Session = outbox
    with Session() as s, s.begin():
        assert messaging.first_delivery(s, "licensing.x", "e1") is True
        assert messaging.first_delivery(s, "licensing.x", "e1") is False
        assert messaging.first_delivery(s, "results.y", "e1") is True
    with Session() as s, s.begin():
        assert messaging.first_delivery(s, "licensing.x", "e1") is False
