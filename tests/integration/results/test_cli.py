"""`koppel results status / retry-now` on the real results database."""
import datetime as dt
import json

from click.testing import CliRunner
from sqlalchemy import select, update

from services.cli import main as koppel
from services.results import intake, lvs_couplings
from services.results.consent import set_consent
from tests.integration.results.support import COORDINATOR, SCHOOL, practice, rm


def test_status_shows_consent_couplings_and_what_is_owed_and_retry_now_skips_the_backoff(sessions, results_env):
    with sessions["results"]() as s, s.begin():
        set_consent(s, SCHOOL, True, COORDINATOR)
        coupling = lvs_couplings.add_lvs_coupling(s, SCHOOL, {"lvs": "other", "endpoint_url": "http://127.0.0.1:9/x",
                                                              "authorisation_key": "cli-key-4321"}, COORDINATOR)
        intake.record_results(s, SCHOOL, [{**practice(i), "taken_on": dt.date(2026, 11, 20)} for i in range(3)])
        later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
        s.execute(update(rm.LvsCoupling).values(status="retrying", next_attempt_at=later, last_error="HTTP 503"))

    out = CliRunner().invoke(koppel, ["results", "status", SCHOOL, "--json"])
    assert out.exit_code == 0, out.output
    report = json.loads(out.output)
    assert report["consent"]["given"] is True and report["consent"]["by"] == COORDINATOR
    [c] = report["couplings"]
    assert (c["id"], c["status"], c["owed"], c["key_hint"]) == (coupling["id"], "retrying", 3, "••••••••4321")
    assert "cli-key-4321" not in out.output
    text = CliRunner().invoke(koppel, ["results", "status", SCHOOL]).output
    assert "owes 3" in text and "last error: HTTP 503" in text

    assert CliRunner().invoke(koppel, ["results", "retry-now", coupling["id"]]).exit_code == 0
    with sessions["results"]() as s:
        assert s.get(rm.LvsCoupling, coupling["id"]).next_attempt_at <= dt.datetime.now(dt.UTC)
    missing = CliRunner().invoke(koppel, ["results", "retry-now", "2b1f6a9e-0000-4000-8000-000000000000"])
    assert missing.exit_code != 0 and "no retrying coupling" in missing.output
    assert CliRunner().invoke(koppel, ["results", "status", "nonsense"]).exit_code != 0


def test_prune_deletes_only_old_results_that_nothing_still_owes(sessions, results_env):
    with sessions["results"]() as s, s.begin():
        set_consent(s, SCHOOL, True, COORDINATOR)
        coupling = lvs_couplings.add_lvs_coupling(s, SCHOOL, {"lvs": "other", "endpoint_url": "http://127.0.0.1:9/x",
                                                              "authorisation_key": "cli-key-4321"}, COORDINATOR)
        intake.record_results(s, SCHOOL, [{**practice(i), "taken_on": dt.date(2026, 11, 20)} for i in range(4)])
        s.add(rm.ExportBatchRecord(id="b1", coupling_id=coupling["id"], school_id=SCHOOL, result_count=2,
                                   outcome="sent", started_at=dt.datetime.now(dt.UTC),
                                   finished_at=dt.datetime.now(dt.UTC)))
        s.flush()
        ids = dict(s.execute(select(rm.PracticeResult.result_key, rm.PracticeResult.id)).all())
        s.execute(update(rm.ResultDelivery).where(rm.ResultDelivery.result_id.in_([ids["res-0"], ids["res-1"],
                                                                                   ids["res-2"]]))
                  .values(batch_id="b1"))  # res-0..2 delivered, res-3 still owed
        s.execute(update(rm.PracticeResult).where(rm.PracticeResult.result_key != "res-2")
                  .values(recorded_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=40)))  # res-2 is recent

    out = CliRunner().invoke(koppel, ["results", "prune", "--older-than-days", "30"])
    assert out.exit_code == 0 and "pruned 2 " in out.output, out.output
    with sessions["results"]() as s:
        assert sorted(s.scalars(select(rm.PracticeResult.result_key))) == ["res-2", "res-3"]
