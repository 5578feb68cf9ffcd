"""Export of practice results to a (fake) LVS, end to end from `result.recorded` on the real broker
and database: content, consent, key rejection, retries after every kind of fault, restarts and two
results processes, each result delivered once per coupling."""
import json
import logging
import time

import eventlet
import pytest
from kombu import Connection, Exchange, Queue
from sqlalchemy import select

from shared.events import make_event
from tests.conftest import wait_for
from tests.fakes.lvs import FakeLvs
from tests.integration.results.support import (
    COORDINATOR,
    KEY,
    SCHOOL,
    couple,
    delivered_keys,
    pending,
    practice,
    rm,
)


@pytest.fixture
def results(start_services, results_env):
    return start_services("results")


def school_keys(lvs_fake):
    return sorted((b.brincode + b.dependancecode, r["key"]) for b in lvs_fake.batches for r in b.results)


def batches(sessions, outcome=None):
    with sessions["results"]() as s:
        q = select(rm.ExportBatchRecord).order_by(rm.ExportBatchRecord.started_at)
        if outcome:
            q = q.where(rm.ExportBatchRecord.outcome == outcome)
        return s.scalars(q).all()


def event_queue(rabbit_config):
    """A queue bound to results' events exchange, declared before anything is emitted."""
    exchange = Exchange("results.events", type="topic", durable=True)
    queue = Queue("test-results-events", exchange=exchange, routing_key="results.#", durable=False)
    with Connection(rabbit_config["AMQP_URI"]) as conn:
        queue(conn.default_channel).declare()
    return queue


def drain(rabbit_config, queue):
    bodies = []
    with Connection(rabbit_config["AMQP_URI"]) as conn:
        bound = queue(conn.default_channel)
        while (message := bound.get(no_ack=True)) is not None:
            bodies.append(json.loads(message.body))
    return bodies


def test_practice_results_flow_from_the_learning_app_to_the_lvs(results, rpc, lvs, publish, sessions,
                                                                 rabbit_config):
    events = event_queue(rabbit_config)
    coupling = couple(rpc, lvs)
    for i in range(5):
        publish(practice(i, eckid="https://ketenid.nl/201703/eck-L1" if i % 3 == 1 else None))
    publish(practice(100, kind="test"))
    publish(practice(101, kind="test", code="TOETS-1"))

    wait_for(lambda: len(lvs.result_keys()) == 5, message="five practice results at the LVS")
    assert lvs.refused == []
    assert delivered_keys(lvs) == ["res-0", "res-1", "res-2", "res-3", "res-4"]  # never the test results
    batch = lvs.batches[0]
    assert (batch.brincode, batch.dependancecode, batch.schooljaar) == ("12AB", "01", "2026-2027")
    assert (batch.key, batch.klantcode, batch.klantnaam) == (KEY, "KOPPEL-01", "Uitgeverij Koppel")
    by_key = {r["key"]: r for b in lvs.batches for r in b.results}
    assert by_key["res-1"] == {"key": "res-1", "leerlingid": "L1", "eckid": "https://ketenid.nl/201703/eck-L1",
                               "toetscode": "SP-1", "score": 1, "afnamedatum": "2026-11-20"}
    toetsen = {code: t for b in lvs.batches for code, t in b.toetsen.items()}
    assert toetsen["SP-2"] == {"toetsnaam": "Spelling les 2", "hierarchie": ["Taal Actief 4"]}
    assert "TOETS-1" not in toetsen

    wait_for(lambda: pending(sessions) == 0, message="deliveries committed")  # the LVS answers before we commit
    view = rpc.lvs_couplings(SCHOOL)[0]
    assert view["id"] == coupling["id"] and view["status"] == "active" and view["last_error"] is None
    assert view["last_export_at"] is not None
    assert sum(b.result_count for b in batches(sessions, "sent")) == 5

    def succeeded_events():
        return [e for e in drain(rabbit_config, events) if e["event_type"] == "results.export_succeeded"]

    seen = []
    wait_for(lambda: seen.extend(succeeded_events()) or sum(e["payload"]["result_count"] for e in seen) == 5,
             message="export_succeeded events on the broker")
    assert {e["payload"]["coupling_id"] for e in seen} == {coupling["id"]}
    assert {e["school"] for e in seen} == {SCHOOL}


def test_nothing_leaves_without_consent(results, rpc, lvs, publish, sessions):
    coupling = couple(rpc, lvs, consent=False)
    publish(practice(1))
    wait_for(lambda: _processed(sessions) == 1, message="event processed")
    assert pending(sessions) == 0  # not kept: the school never consented

    rpc.set_consent(SCHOOL, True, COORDINATOR)
    lvs.fail("http_503", times=None)
    publish(practice(2))
    wait_for(lambda: rpc.lvs_couplings(SCHOOL)[0]["status"] == "retrying", message="retrying")
    rpc.set_consent(SCHOOL, False, COORDINATOR)  # withdrawn while the result waits
    lvs.recover()
    requests = lvs.requests
    eventlet.sleep(1.5)  # several retry periods
    assert lvs.requests == requests and lvs.result_keys() == []
    assert rpc.lvs_couplings(SCHOOL)[0]["status"] == "no_consent"

    rpc.set_consent(SCHOOL, True, COORDINATOR)
    wait_for(lambda: lvs.result_keys() == ["res-2"], message="sent once consent is back")
    wait_for(lambda: pending(sessions, coupling["id"]) == 0, message="delivery committed")


def _processed(sessions):
    from sqlalchemy import func

    with sessions["results"]() as s:
        return s.scalar(select(func.count()).select_from(rm.messaging.processed))


def test_a_rejected_key_stops_sending_until_the_key_is_changed(results, rpc, lvs, publish, sessions, caplog):
    caplog.set_level(logging.DEBUG)  # the keys must not reach any log, at any level
    coupling = couple(rpc, lvs, key="wrong-key-9999")
    publish(practice(1))
    view = wait_for(lambda: (v := rpc.lvs_couplings(SCHOOL)[0])["status"] == "key_rejected" and v,
                    message="key rejected")
    assert "Client.AutorisatieOngeldig" in view["last_error"]
    assert lvs.requests == 1 and lvs.refused == ["key"]

    for i in range(2, 6):
        publish(practice(i))
    wait_for(lambda: pending(sessions) == 5, message="results keep queueing")
    eventlet.sleep(1.0)
    assert lvs.requests == 1  # stopped: no attempt with a key the LVS refused

    rpc.update_lvs_key(SCHOOL, coupling["id"], KEY, COORDINATOR)
    wait_for(lambda: len(lvs.result_keys()) == 5, message="backlog sent with the new key")
    assert delivered_keys(lvs) == [f"res-{i}" for i in range(1, 6)]
    view = rpc.lvs_couplings(SCHOOL)[0]
    assert view["status"] == "active" and view["last_error"] is None
    with sessions["results"]() as s:
        failed = s.scalars(select(rm.messaging.outbox.c.body)
                           .where(rm.messaging.outbox.c.event_type == "results.export_failed")).all()
    assert [json.loads(b)["payload"]["status"] for b in failed] == ["key_rejected"]
    assert all("wrong-key-9999" not in b for b in failed)
    assert caplog.records and "wrong-key-9999" not in caplog.text and KEY not in caplog.text


def test_changing_the_key_during_a_send_neither_waits_nor_loses_the_new_key(results, rpc, lvs, publish, sessions):
    coupling = couple(rpc, lvs, key="old-key-0000")
    lvs.state.hang_seconds = 1.5
    lvs.fail("slow", times=1)
    publish(practice(1))
    wait_for(lambda: lvs.requests == 1, message="send with the old key in flight")
    started = time.monotonic()
    rpc.update_lvs_key(SCHOOL, coupling["id"], KEY, COORDINATOR)
    assert time.monotonic() - started < 1.0  # the coordinator does not wait for the LVS
    # the old key's rejection arrives after the change: it must not stop the coupling
    wait_for(lambda: lvs.result_keys() == ["res-1"], timeout=20, message="sent with the new key")
    wait_for(lambda: pending(sessions) == 0, message="delivery committed")
    assert lvs.refused == ["key"]
    assert rpc.lvs_couplings(SCHOOL)[0]["status"] == "active"


@pytest.mark.parametrize("kind, failure", [
    ("http_500", "http_error"), ("http_503", "http_error"), ("server_fault", "lvs_fault"),
    ("fault", "lvs_fault"), ("timeout", "timeout"), ("drop", "network"),
])
def test_after_a_fault_the_exporter_retries_with_backoff_and_loses_nothing(results, rpc, lvs, publish, sessions,
                                                                           kind, failure):
    couple(rpc, lvs)
    lvs.fail(kind, times=2)
    for i in range(4):
        publish(practice(i))
    wait_for(lambda: len(lvs.result_keys()) >= 4, timeout=20, message="delivered after the fault")
    wait_for(lambda: pending(sessions) == 0, message="deliveries committed")
    assert delivered_keys(lvs) == ["res-0", "res-1", "res-2", "res-3"]  # each once
    failed = batches(sessions, "failed")
    assert [b.failure for b in failed][:2] == [failure, failure]
    gaps = [(b.started_at - a.finished_at).total_seconds() for a, b in zip(failed, failed[1:] + batches(
        sessions, "sent")[:1], strict=False)]
    assert all(g >= 0.15 for g in gaps[:2]), gaps  # backoff (0.2 s, then 0.4 s, minus jitter) between attempts
    view = rpc.lvs_couplings(SCHOOL)[0]
    assert view["status"] == "active" and view["last_error"] is None and pending(sessions) == 0


def test_an_answer_lost_after_the_lvs_accepted_resends_the_same_keys(results, rpc, lvs, publish, sessions):
    """The one window where a result reaches an LVS twice: it accepted the batch but its answer
    never reached us. The same batch goes again with the same resultaat keys (UWLR's xs:key), so
    the LVS can recognise it; nothing is lost and the coupling recovers."""
    couple(rpc, lvs)
    lvs.fail("late", times=1)
    publish(practice(1))
    publish(practice(2))
    wait_for(lambda: len(lvs.batches) == 2, timeout=20, message="batch sent again after the lost answer")
    wait_for(lambda: pending(sessions) == 0, message="delivery committed")
    first, second = lvs.batches
    assert [r["key"] for r in second.results][:len(first.results)] == [r["key"] for r in first.results]
    assert [b.failure for b in batches(sessions, "failed")] == ["timeout"]
    assert rpc.lvs_couplings(SCHOOL)[0]["status"] == "active"


def test_a_coupling_receives_results_recorded_after_it_was_added(results, rpc, lvs, publish):
    couple(rpc, lvs)
    publish(practice(1))
    wait_for(lambda: lvs.result_keys() == ["res-1"])
    with FakeLvs(keys={"esis-key-1234"}) as esis:
        rpc.add_lvs_coupling(SCHOOL, {"lvs": "other", "endpoint_url": esis.url, "authorisation_key": "esis-key-1234"},
                             COORDINATOR)
        publish(practice(2))
        wait_for(lambda: esis.result_keys() == ["res-2"] and sorted(lvs.result_keys()) == ["res-1", "res-2"])
        assert esis.refused == [] and lvs.refused == []


def test_removing_a_coupling_stops_its_queue(results, rpc, lvs, publish, sessions):
    coupling = couple(rpc, lvs)
    lvs.fail("http_503", times=None)
    publish(practice(1))
    wait_for(lambda: rpc.lvs_couplings(SCHOOL)[0]["status"] == "retrying")
    rpc.remove_lvs_coupling(SCHOOL, coupling["id"], COORDINATOR)
    assert pending(sessions) == 0
    lvs.recover()
    eventlet.sleep(1.0)
    assert lvs.result_keys() == []


def test_a_result_event_breaking_its_contract_is_dead_lettered_and_stores_nothing(results, rpc, lvs, publish,
                                                                                 sessions, rabbit_config):
    couple(rpc, lvs)
    envelope = make_event("result.recorded", SCHOOL, practice(1))
    envelope["payload"]["score"] = -3  # a learning app bug
    publish(None, envelope=envelope)

    def dead_lettered():
        with Connection(rabbit_config["AMQP_URI"]) as conn:
            name = "evt-learning-app-result.recorded--results.on_result_recorded.dlq"
            return conn.default_channel.queue_declare(name, passive=True).message_count == 1

    wait_for(dead_lettered, message="message dead-lettered")
    assert _processed(sessions) == 0 and pending(sessions) == 0


def test_the_same_result_twice_is_delivered_once(results, rpc, lvs, publish, sessions):
    couple(rpc, lvs)
    envelope = publish(practice(1))
    publish(practice(1), envelope=envelope)          # broker redelivery: same event id
    publish(practice(1, score=9))                    # the app sends the result again: same result key
    rpc.record_result({"school_id": SCHOOL, **practice(1)})
    wait_for(lambda: _processed(sessions) == 2, message="both events processed")
    wait_for(lambda: lvs.result_keys() == ["res-1"])
    eventlet.sleep(0.5)
    assert lvs.result_keys() == ["res-1"] and lvs.batches[0].results[0]["score"] == 1


def test_results_of_two_school_years_go_in_separate_messages(results, rpc, lvs, publish):
    couple(rpc, lvs)
    publish(practice(1, taken_on="2026-07-10"))
    publish(practice(2, taken_on="2026-09-01"))
    wait_for(lambda: len(lvs.result_keys()) == 2)
    years = {b.schooljaar: [r["key"] for r in b.results] for b in lvs.batches}
    assert years == {"2025-2026": ["res-1"], "2026-2027": ["res-2"]}


def test_a_restart_neither_loses_nor_resends(start_services, results_env, rpc, lvs, publish, sessions):
    first = start_services("results")
    couple(rpc, lvs)
    for i in range(10):
        publish(practice(i))
    wait_for(lambda: len(lvs.result_keys()) == 10, message="first ten delivered")
    lvs.fail("http_503", times=None)
    for i in range(10, 30):
        publish(practice(i))
    wait_for(lambda: pending(sessions) == 20, message="twenty queued during the outage")
    first.stop()
    for i in range(30, 40):
        publish(practice(i))  # arrive while no results process runs: wait in RabbitMQ
    lvs.recover()
    start_services("results")
    wait_for(lambda: len(lvs.result_keys()) >= 40, timeout=20, message="all forty delivered")
    eventlet.sleep(0.5)
    keys = lvs.result_keys()
    assert len(keys) == 40 and sorted(set(keys)) == sorted(f"res-{i}" for i in range(40))


def test_a_process_killed_while_sending_leaves_the_batch_owed(start_services, results_env, rpc, lvs, publish,
                                                              sessions, monkeypatch):
    monkeypatch.setenv("RESULTS_LVS_TIMEOUT_SECONDS", "5")
    first = start_services("results")
    couple(rpc, lvs)
    lvs.state.hang_seconds = 3.0
    lvs.fail("timeout", times=1)
    publish(practice(1))
    wait_for(lambda: lvs.requests == 1, message="send in flight")
    first.kill()  # mid-request: its transaction dies with it
    assert pending(sessions) == 1
    start_services("results")
    wait_for(lambda: lvs.result_keys() == ["res-1"], timeout=20, message="owed batch sent by the next process")
    wait_for(lambda: pending(sessions) == 0, message="delivery committed")
    assert len(batches(sessions, "sent")) == 1


def test_two_results_processes_deliver_each_result_once(start_services, service_config, results_env, rpc, publish,
                                                        sessions, monkeypatch):
    monkeypatch.setenv("RESULTS_EXPORT_BATCH_SIZE", "7")
    monkeypatch.setenv("RESULTS_LVS_TIMEOUT_SECONDS", "10")  # a late answer would resend (see the test above)
    # few workers: PostgreSQL's 100 connections are shared by every engineer's tests on this machine
    start_services("results", "results", config={**service_config, "max_workers": 4})
    schools = ["12AB01", "12AB02", "56EF00"]
    with FakeLvs(keys={KEY}) as lvs:
        for school in schools:
            couple(rpc, lvs, school=school)
        for i in range(60):
            for school in schools:
                publish(practice(i), school=school)
        wait_for(lambda: len(lvs.result_keys()) >= 180, timeout=30, message="all results delivered")
        wait_for(lambda: pending(sessions) == 0, message="deliveries committed")
        eventlet.sleep(0.3)  # room for a wrongly repeated batch to arrive
        delivered = school_keys(lvs)
        assert len(delivered) == 180 and len(set(delivered)) == 180
        assert lvs.refused == []


def test_a_result_with_a_control_character_is_refused_over_rpc_and_an_old_one_shows_on_the_coupling(
        results, rpc, lvs, sessions):
    """Intake refuses what XML cannot carry; a row stored before that rule (or by a bug) does not
    crash the exporter round after round out of sight: the coupling says the message cannot be built."""
    import datetime as dt

    from shared.errors import InvalidInput

    coupling = couple(rpc, lvs)
    with pytest.raises(InvalidInput) as err:
        rpc.record_result({**practice(1), "school_id": SCHOOL, "exercise_name": "Spelling\x0bles 1"})
    assert "exercise_name" in err.value.fields
    with sessions["results"]() as s, s.begin():
        row = rm.PracticeResult(school_id=SCHOOL, result_key="legacy-1", pupil_key="L1", method="Taal Actief 4",
                                exercise_code="SP-1", exercise_name="Spelling\x01", score=5,
                                taken_on=dt.date(2026, 11, 20), recorded_at=dt.datetime.now(dt.UTC))
        s.add(row)
        s.flush()
        s.add(rm.ResultDelivery(coupling_id=coupling["id"], result_id=row.id))
    view = wait_for(lambda: (v := rpc.lvs_couplings(SCHOOL)[0])["status"] == "retrying" and v,
                    message="coupling shows the unbuildable message")
    assert view["last_error"].startswith("message not sent, it cannot be built or breaks the XSD")
    assert lvs.requests == 0
