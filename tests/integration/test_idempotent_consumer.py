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
