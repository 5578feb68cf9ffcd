"""The Basispoort pull against the fake Basispoort over real HTTPS with client certificates,
into the real PostgreSQL; `koppel roster sync`."""
import dataclasses
import json

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from services.cli import main as koppel
from services.roster import basispoort, pull, synthetic
from services.roster import models as m
from shared.db import make_engine, make_session_factory
from tests.fakes.basispoort import FakeBasispoort, make_tls

BASE = "/rest/v2/instellingen"


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    return make_tls(tmp_path_factory.mktemp("basispoort-tls"))


@pytest.fixture
def fake(tls):
    with FakeBasispoort(tls) as server:
        yield server


@pytest.fixture
def settings(fake, tls, monkeypatch):
    env = {"BASISPOORT_URL": fake.url, "BASISPOORT_CERT_FILE": tls.client_cert, "BASISPOORT_CA_FILE": tls.ca,
           "BASISPOORT_BACKOFF_SECONDS": "0.01", "BASISPOORT_TIMEOUT_SECONDS": "5"}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return basispoort.Settings.from_env()


@pytest.fixture
def session(databases, pg_urls):
    engine = make_engine(pg_urls["roster"])
    with make_session_factory(engine)() as s:
        yield s
    engine.dispose()


def count(session, model):
    with session.begin():
        return session.scalar(select(func.count()).select_from(model))


def test_client_reads_every_endpoint_with_its_client_certificate(fake, settings):
    school = synthetic.school(1, pupils=30)
    fake.add_school(501, school)
    with basispoort.Client(settings) as client:
        assert client.institution_ids() == [501]
        assert client.details(501)["brincode"] == school.school.brin
        overview = client.institution(501)
        assert client.groups(501)["groepen"] == overview["groepen"]
        assert client.pupils(501)["leerlingen"] == overview["leerlingen"]
        assert client.staff(501)["medewerkers"] == overview["medewerkers"]
        snapshot = client.fetch_snapshot(501)
    assert {cn for _, cn in fake.requests} == {"uitgever-koppel"}
    assert snapshot.pupils == school.pupils and snapshot.groups == school.groups
    assert snapshot.school.school_id == school.school.school_id and snapshot.source == "basispoort"
    ict = [s for s in snapshot.staff.values() if s.is_ict_coordinator]
    assert [s.roles for s in ict] == [("ICTCoordinator", "Leerkracht")]


def test_a_certificate_from_another_ca_is_refused(fake, settings, tls):
    fake.add_school(501, synthetic.school(1, pupils=5))
    stranger = dataclasses.replace(settings, cert_file=tls.stranger_cert)
    with basispoort.Client(stranger) as client, pytest.raises(basispoort.BasispoortError, match="TLS"):
        client.institution_ids()
    with basispoort.Client(dataclasses.replace(settings, cert_file=None)) as client, \
            pytest.raises(basispoort.BasispoortError, match="TLS"):
        client.institution_ids()


def test_transient_failures_are_retried_with_backoff_then_give_up_visibly(fake, settings):
    fake.add_school(501, synthetic.school(1, pupils=5))
    fake.fail(f"{BASE}/501/details", 503, 502)
    slept = []
    with basispoort.Client(settings, sleep=slept.append) as client:
        assert client.details(501)["brincode"]
        assert slept == [0.01, 0.02]
        fake.fail(f"{BASE}/501/details", 503, 503, 503, 503)
        with pytest.raises(basispoort.BasispoortError, match="HTTP 503 after 4 attempts"):
            client.details(501)
        with pytest.raises(basispoort.BasispoortError, match="HTTP 404"):
            client.details(999)  # not retried
    assert fake.count(f"{BASE}/999/details") == 1


def test_missing_certificate_file_is_a_clear_error(settings):
    with pytest.raises(basispoort.BasispoortError, match="BASISPOORT_CERT_FILE: no file at /nope.pem"):
        basispoort.Client(dataclasses.replace(settings, cert_file="/nope.pem"))


def test_pull_stores_the_same_roster_as_the_edexml_path_and_resync_is_quiet(fake, settings, session):
    school = synthetic.school(2, pupils=25)
    fake.add_school(502, school)
    with basispoort.Client(settings) as client:
        first = pull.sync_institution(session, client, 502)
        assert first["status"] == "applied" and first["report"]["pupils"]["added"] == 25
        again = pull.sync_institution(session, client, 502)
        assert again["status"] == "unchanged"
        changed = synthetic.with_changes(school, 0.12)
        fake.add_school(502, changed)
        third = pull.sync_institution(session, client, 502)
    pupils = third["report"]["pupils"]
    assert third["status"] == "applied" and sum(pupils.values()) > 0
    with session.begin():
        stored = session.get(m.School, school.school.school_id)
        assert stored.basispoort_id == "502" and stored.name == school.school.name and stored.sequence == 2
        assert session.scalar(select(func.count()).select_from(m.Pupil)) == len(changed.pupils)
        assert session.scalar(select(func.count()).select_from(m.messaging.outbox)) == 2


def test_bad_basispoort_data_fails_that_school_visibly_and_changes_nothing(fake, settings, session):
    good = synthetic.school(2, pupils=10)
    fake.add_school(502, good)
    with basispoort.Client(settings) as client:
        pull.sync_institution(session, client, 502)
        details, institution = synthetic.to_basispoort(good, 502)
        institution["leerlingen"][3]["groep"] = "G99"
        del institution["leerlingen"][4]["persoonsgegevens"]
        fake.add(502, details, institution)
        result = pull.sync_institution(session, client, 502)
    assert result["status"] == "failed"
    assert result["error"] == "instelling.leerlingen[4].persoonsgegevens: Missing data for required field."
    fake.add(502, details, {**institution, "leerlingen": institution["leerlingen"][:4]})
    with basispoort.Client(settings) as client:
        result = pull.sync_institution(session, client, 502)
    assert result["error"] == "instelling.leerlingen[3].groep: unknown group 'G99'"
    with session.begin():
        runs = session.execute(select(m.SyncRun.status, m.SyncRun.error).order_by(m.SyncRun.created_at)).all()
        assert [r.status for r in runs] == ["applied", "failed", "failed"]
        assert session.scalar(select(func.count()).select_from(m.Pupil)) == 10


def test_sync_all_goes_on_after_a_failing_school(fake, settings, session):
    for i in (1, 2, 3):
        fake.add_school(600 + i, synthetic.school(10 + i, pupils=8))
    fake.fail(f"{BASE}/602", 500, 500, 500, 500)
    with basispoort.Client(settings) as client:
        summary = pull.sync_all(session, client)
    assert {k: summary[k] for k in ("institutions", "applied", "failed")} == {"institutions": 3, "applied": 2,
                                                                               "failed": 1}
    assert summary["failures"] == [{"basispoort_id": 602, "school": None,
                                    "error": "GET /602: HTTP 500 after 4 attempts"}]
    assert count(session, m.School) == 2


def test_inactive_institution_is_refused(fake, settings, session):
    details, institution = synthetic.to_basispoort(synthetic.school(1, pupils=5), 501)
    fake.add(501, {**details, "actief": False, "gefuseerdNaar": 777}, institution)
    with basispoort.Client(settings) as client:
        result = pull.sync_institution(session, client, 501)
    assert result["error"] == "instelling 501 is not active in Basispoort (merged into 777)"
    assert count(session, m.Pupil) == 0


def cli(*args):
    return CliRunner().invoke(koppel, ["roster", "sync", *args])


def test_cli_sync_of_one_school_and_of_all(fake, settings, databases):
    a, b = synthetic.school(21, pupils=12), synthetic.school(22, pupils=12)
    fake.add_school(701, a)
    fake.add_school(702, b)
    one = cli("--school", b.school.school_id, "--json")
    assert one.exit_code == 0, one.stderr
    first, summary = (json.loads(x) for x in one.stdout.splitlines())
    assert first["school"] == b.school.school_id and first["status"] == "applied"
    assert first["report"]["pupils"] == {"added": 12, "changed": 0, "removed": 0}
    assert summary["summary"]["applied"] == 1

    everyone = cli("--json")
    assert everyone.exit_code == 0, everyone.stderr
    statuses = [json.loads(x).get("status") for x in everyone.stdout.splitlines()[:-1]]
    assert statuses == ["applied", "unchanged"]

    assert a.school.school_id.endswith("00")
    by_brin4 = cli("--school", a.school.school_id[:4].lower(), "--json")  # a BRIN of 4: the main location
    assert by_brin4.exit_code == 0, by_brin4.stderr
    assert json.loads(by_brin4.stdout.splitlines()[0])["school"] == a.school.school_id

    unknown = cli("--school", "99XX00")
    assert unknown.exit_code == 2 and "99XX00 is not among the institutions" in unknown.stderr

    fake.fail(f"{BASE}/701/details", 500, 500, 500, 500)
    failing = cli()
    assert failing.exit_code == 1
    assert f"({a.school.school_id}): failed: GET /701/details: HTTP 500 after 4 attempts" in failing.stderr


def test_cli_sync_without_configuration_says_so(monkeypatch):
    monkeypatch.delenv("BASISPOORT_URL", raising=False)
    result = cli()
    assert result.exit_code == 2 and result.stderr.strip() == "error: BASISPOORT_URL is not set"


def test_data_problems_are_stored_on_the_school_but_not_logged(fake, settings, session, caplog):
    school = synthetic.school(2, pupils=10)
    details, institution = synthetic.to_basispoort(school, 502)
    institution["medewerkers"][1]["emailadres"] = institution["medewerkers"][0]["emailadres"]
    fake.add(502, details, institution)
    with basispoort.Client(settings) as client:
        result = pull.sync_institution(session, client, 502)
    email = institution["medewerkers"][0]["emailadres"]
    assert email in result["error"]
    with session.begin():
        assert email in session.scalar(select(m.SyncRun.error).where(m.SyncRun.school_id == school.school.school_id))
    assert "roster data problems, see sync run" in caplog.text and email not in caplog.text


def test_a_half_empty_pull_is_held_until_approved_and_dry_run_applies_nothing(fake, settings, session, databases):
    """The nightly pull is where a half-empty LAS export arrives: the mass-deletion guard holds it."""
    school = synthetic.school(31, pupils=30)
    fake.add_school(801, school)
    with basispoort.Client(settings) as client:
        assert pull.sync_institution(session, client, 801)["status"] == "applied"
        kept = dict(list(school.pupils.items())[:10])
        fake.add_school(801, dataclasses.replace(school, pupils=kept))  # 20 of 30 missing

        dry = cli("--school", school.school.school_id, "--dry-run", "--json")
        assert dry.exit_code == 0, dry.stderr
        assert json.loads(dry.stdout.splitlines()[0])["report"]["pupils"]["removed"] == 20
        assert count(session, m.Pupil) == 30

        held = pull.sync_institution(session, client, 801)
    assert held["status"] == "pending" and held["report"]["applied"] is False
    assert held["report"]["pupils"]["removed"] == 20
    assert count(session, m.Pupil) == 30
    with session.begin():
        assert session.scalar(select(func.count()).select_from(m.messaging.outbox)) == 1  # only the first sync

    approved = CliRunner().invoke(koppel, ["roster", "approve", held["report"]["sync_id"]])
    assert approved.exit_code == 0, approved.output
    assert count(session, m.Pupil) == 10
    with session.begin():
        assert session.scalar(select(func.count()).select_from(m.messaging.outbox)) == 2
