"""The results event contracts: what the learning app must send, what monitoring receives."""
import pytest
from marshmallow import ValidationError

from shared.events import load_event, make_event

RESULT = {"result_key": "r-1", "pupil_key": "L1", "method": "Taal Actief 4", "exercise_code": "SP-1",
          "exercise_name": "Spelling les 1", "kind": "practice", "score": 7, "taken_on": "2026-11-20"}


def test_result_recorded_round_trip_with_optional_eckid():
    loaded = load_event(make_event("result.recorded", "12AB01", RESULT))
    assert loaded["payload"]["eckid"] is None and loaded["payload"]["taken_on"].isoformat() == "2026-11-20"
    with_eck = load_event(make_event("result.recorded", "12AB01", {**RESULT, "eckid": "https://ketenid.nl/x"}))
    assert with_eck["payload"]["eckid"] == "https://ketenid.nl/x"


@pytest.mark.parametrize("change, field", [
    ({"kind": "exam"}, "kind"), ({"score": -1}, "score"), ({"score": 7.5}, "score"), ({"score": "7"}, "score"),
    ({"result_key": "k" * 257}, "result_key"), ({"exercise_name": "n" * 129}, "exercise_name"),
    ({"taken_on": "gisteren"}, "taken_on"), ({"pupil_key": None}, "pupil_key"),
    ({"exercise_name": "Spelling\x0bles 1"}, "exercise_name"), ({"pupil_key": "L\x00"}, "pupil_key"),
    ({"method": "Taal \ud800"}, "method"),
])
def test_result_recorded_refuses_what_would_break_a_uwlr_message(change, field):
    with pytest.raises(ValidationError) as err:
        make_event("result.recorded", "12AB01", {**RESULT, **change})
    assert field in err.value.messages


def test_a_result_with_a_control_character_is_refused_at_the_door_and_xml_text_is_not():
    """One control character used to pass intake and then make every UWLR message of the school fail
    to build (lxml refuses it), so the coupling retried that batch for ever."""
    import datetime as dt

    from services.results import uwlr

    with pytest.raises(ValidationError) as err:
        make_event("result.recorded", "12AB01", {**RESULT, "exercise_name": "Spelling\x01"})
    assert err.value.messages["exercise_name"] == ["contains a character XML cannot carry (U+0001 at position 9)"]
    fine = load_event(make_event("result.recorded", "12AB01", {**RESULT, "exercise_name": "Zoë\tleest 😀"}))
    r = fine["payload"]
    message = uwlr.build_request("12AB01", uwlr.school_year(r["taken_on"]), [uwlr.Result(
        r["result_key"], r["pupil_key"], None, r["method"], r["exercise_code"], r["exercise_name"], r["score"],
        r["taken_on"])], uwlr.Authorisation("sleutel", "koppel", "koppel"), dt.datetime.now(dt.UTC))
    uwlr.validate(message)  # what the contract lets in, the XSD takes


def test_export_failed_names_failure_and_status():
    payload = {"batch_id": "b", "coupling_id": "c", "lvs": "momento", "result_count": 3, "failure": "timeout",
               "error": "no answer", "status": "retrying", "attempts": 2,
               "next_attempt_at": "2026-12-03T10:00:00+00:00"}
    assert load_event(make_event("results.export_failed", "12AB01", payload))["payload"]["attempts"] == 2
    with pytest.raises(ValidationError) as err:
        make_event("results.export_failed", "12AB01", {**payload, "status": "active"})
    assert "status" in err.value.messages


def test_the_exporter_runs_one_worker_on_sqlite_which_cannot_skip_locked_rows(monkeypatch, tmp_path):
    from services.results.export_runner import ResultsExporter

    monkeypatch.setenv("RESULTS_EXPORT_WORKERS", "4")
    monkeypatch.setenv("RESULTS_DATABASE_URL", f"sqlite:///{tmp_path}/results.db")
    exporter = ResultsExporter()
    exporter.setup()
    assert exporter.workers == 1
    exporter.engine.dispose()
    monkeypatch.setenv("RESULTS_DATABASE_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/unused")
    exporter = ResultsExporter()
    exporter.setup()  # the engine connects lazily
    assert exporter.workers == 4
