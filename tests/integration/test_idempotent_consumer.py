"""At-least-once delivery meets consumers that apply each event once, also with two instances."""
from unittest import mock

from nameko.standalone.events import event_dispatcher
from sqlalchemy import func, select

from services.licensing import models as lm
from services.licensing import roster_copy
from shared.events import make_event
from tests.conftest import wait_for

PAYLOAD = {"sequence": 1, "groups": {"added": [{"key": "G1", "name": "Groep 1", "jaargroep": "1"}]}}


def _processed(sessions):
    with sessions["licensing"]() as s:
        return s.scalar(select(func.count()).select_from(lm.messaging.processed))


def test_same_event_twice_is_applied_once(start_services, sessions, rabbit_config):
    start_services("licensing")
    event = make_event("roster.updated", "99ZZ00", PAYLOAD)
    dispatch = event_dispatcher({**rabbit_config, "serializer": "json"})
    with mock.patch.object(roster_copy, "apply_roster_updated", wraps=roster_copy.apply_roster_updated) as apply:
        dispatch("roster", "roster.updated", event)
        dispatch("roster", "roster.updated", event)
        wait_for(lambda: _processed(sessions) == 1, message="event processed")
        wait_for(lambda: apply.call_count >= 1)
        import eventlet

        eventlet.sleep(1.0)  # give the duplicate time to arrive
        assert apply.call_count == 1
    with sessions["licensing"]() as s:
        assert s.scalars(select(lm.RosterGroup.key)).all() == ["G1"]


def test_duplicates_across_two_consumer_instances_apply_once(start_services, sessions, rabbit_config):
    start_services("licensing", "licensing")
    dispatch = event_dispatcher({**rabbit_config, "serializer": "json"})
    events = [make_event("roster.updated", "99ZZ00", {**PAYLOAD, "sequence": i + 1}) for i in range(20)]
    with mock.patch.object(roster_copy, "apply_roster_updated", wraps=roster_copy.apply_roster_updated) as apply:
        for event in events:
            for _ in range(3):
                dispatch("roster", "roster.updated", event)
        wait_for(lambda: _processed(sessions) == 20, timeout=30, message="all events processed")
        import eventlet

        eventlet.sleep(1.0)
        assert apply.call_count == 20
    with sessions["licensing"]() as s:
        assert s.scalar(select(lm.RosterGroup.sequence)) == 20


def test_event_breaking_its_contract_goes_to_the_dead_letter_queue(start_services, sessions, rabbit_config):
    start_services("licensing")
    dispatch = event_dispatcher({**rabbit_config, "serializer": "json"})
    dispatch("roster", "roster.updated", {"event_type": "roster.updated", "school": "nonsense"})
    from kombu import Connection

    def dead_lettered():
        with Connection(rabbit_config["AMQP_URI"]) as conn:
            name = "evt-roster-roster.updated--licensing.on_roster_updated.dlq"
            return conn.default_channel.queue_declare(name, passive=True).message_count == 1

    wait_for(dead_lettered, message="message dead-lettered")
    assert _processed(sessions) == 0


def _queue_depth(rabbit_config, name: str) -> int:
    from kombu import Connection

    with Connection(rabbit_config["AMQP_URI"]) as conn:
        return conn.default_channel.queue_declare(name, passive=True).message_count


QUEUE = "evt-roster-roster.updated--licensing.on_roster_updated"


def test_a_failing_handler_is_retried_after_a_delay_and_applies_once(start_services, sessions, rabbit_config,
                                                                   monkeypatch):
    """A database blip longer than one redelivery must not park the event: it comes back later."""
    monkeypatch.setenv("CONSUMER_RETRY_SECONDS", "0.3,0.6,0.9")
    start_services("licensing")
    real, calls = roster_copy.apply_roster_updated, []

    def flaky(session, event):
        calls.append(1)
        if len(calls) <= 2:
            raise RuntimeError("database restarting")
        return real(session, event)

    with mock.patch.object(roster_copy, "apply_roster_updated", side_effect=flaky):
        event_dispatcher({**rabbit_config, "serializer": "json"})(
            "roster", "roster.updated", make_event("roster.updated", "99ZZ00", PAYLOAD))
        wait_for(lambda: _processed(sessions) == 1, message="event applied on its third attempt")
    assert len(calls) == 3
    with sessions["licensing"]() as s:
        assert s.scalars(select(lm.RosterGroup.key)).all() == ["G1"]
    assert _queue_depth(rabbit_config, f"{QUEUE}.dlq") == 0


def test_a_handler_that_keeps_failing_ends_in_the_dead_letter_queue(start_services, sessions, rabbit_config,
                                                                  monkeypatch):
    monkeypatch.setenv("CONSUMER_RETRY_SECONDS", "0.2,0.2")
    start_services("licensing")
    calls = []
    with mock.patch.object(roster_copy, "apply_roster_updated",
                           side_effect=lambda *a: calls.append(1) or (_ for _ in ()).throw(RuntimeError("bug"))):
        event_dispatcher({**rabbit_config, "serializer": "json"})(
            "roster", "roster.updated", make_event("roster.updated", "99ZZ00", PAYLOAD))
        wait_for(lambda: _queue_depth(rabbit_config, f"{QUEUE}.dlq") == 1, message="dead-lettered after 3 attempts")
    assert len(calls) == 3  # the first attempt and two retries, then no more
    assert _processed(sessions) == 0
    assert all(_queue_depth(rabbit_config, f"{QUEUE}.retry{n}") == 0 for n in (1, 2))
