"""The roster service on the real broker and PostgreSQL: its RPCs (guard scoped to a school, read
side), roster.updated reaching a consumer, and the nightly Basispoort sync with two processes."""
import datetime as dt
import json
from zoneinfo import ZoneInfo

import eventlet
import pytest
from click.testing import CliRunner
from nameko.standalone.rpc import ServiceRpcProxy
from sqlalchemy import func, select

from services.cli import main as koppel
from services.roster import models as m
from services.roster import synthetic
from shared.config import PROJECT_ROOT
from shared.errors import NotFound
from shared.nameko_ext import contract_event_handler
from tests.conftest import wait_for
from tests.fakes.basispoort import FakeBasispoort

EXAMPLE_21 = (PROJECT_ROOT / "shared/standards/edexml-2.1/EDEXML.Voorbeeld.2.1.xml").read_bytes()


def import_file(tmp_path, data: bytes, *args) -> dict:
    path = tmp_path / "roster.xml"
    path.write_bytes(data)
    result = CliRunner().invoke(koppel, ["roster", "import", str(path), "--json", *args])
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture
def roster_rpc(start_services, service_config):
    start_services("roster")
    with ServiceRpcProxy("roster", service_config, timeout=10) as proxy:
        yield proxy


RECEIVED = []


class RosterListener:
    """A consumer as licensing would be: a durable queue on roster's events exchange."""
    name = "roster_listener"

    @contract_event_handler("roster", "roster.updated")
    def on_roster_updated(self, event):
        RECEIVED.append(event)


def test_roster_updated_reaches_a_consumer_through_the_broker_with_exact_keys(
        start_services, container_factory, service_config, tmp_path, monkeypatch):
    RECEIVED.clear()
    container_factory(RosterListener, service_config).start()
    start_services("roster")
    import_file(tmp_path, EXAMPLE_21)
    [first] = wait_for(lambda: list(RECEIVED), message="first roster.updated")
    assert first["school"] == "99ZZ00" and first["payload"]["sequence"] == 1
    assert sorted(p["key"] for p in first["payload"]["pupils"]["added"]) == ["00001", "00002", "12345"]

    changed = (EXAMPLE_21.replace(b'<groep key="GRP4B"/>', b'<groep key="GRP4A"/>')  # 00001 moves
               .replace(b'<leerling key="00002">', b'<leerling key="00004">')  # 00002 leaves, 00004 arrives
               .replace(b"<naam>Muizen</naam>", b"<naam>Egeltjes</naam>"))  # group 002 renamed
    monkeypatch.setenv("ROSTER_MASS_DELETION_THRESHOLD", "0.5")  # 1 of the 3 pupils leaves: 33%
    import_file(tmp_path, changed)
    second = wait_for(lambda: len(RECEIVED) == 2 and RECEIVED[1], message="second roster.updated")
    payload = second["payload"]
    assert payload["sequence"] == 2
    assert payload["pupils"]["added"] == [{"key": "00004", "group": None, "composite_groups": [], "jaargroep": "4"}]
    assert payload["pupils"]["changed"] == [{"key": "00001", "group": "GRP4A", "composite_groups": ["sg1", "sg2"],
                                             "jaargroep": "4"}]
    assert payload["pupils"]["removed"] == ["00002"]
    assert payload["groups"] == {"added": [], "removed": [], "changed": [
        {"key": "002", "name": "Egeltjes", "jaargroep": "1", "composite": False}]}
    assert payload["staff"] == {"added": [], "changed": [], "removed": []}
    assert "eckid" not in json.dumps(payload) and "Assati" not in json.dumps(payload)

    import_file(tmp_path, changed)  # nothing changed: nothing emitted
    eventlet.sleep(0.5)
    assert len(RECEIVED) == 2


def test_guard_rpcs_are_scoped_to_the_school(roster_rpc, tmp_path):
    a = synthetic.school(31, pupils=10)
    b = synthetic.school(32, pupils=10)
    for school in (a, b):
        import_file(tmp_path, synthetic.to_edexml(school))
    for key in sorted(a.pupils)[:6]:
        del a.pupils[key]
    held = import_file(tmp_path, synthetic.to_edexml(a))
    a_id, b_id = a.school.school_id, b.school.school_id

    [pending] = roster_rpc.pending_syncs(a_id)
    assert pending["sync_id"] == held["sync_id"] and pending["status"] == "pending"
    assert pending["summary"]["pupils"] == {"added": 0, "changed": 0, "removed": 6}
    assert roster_rpc.pending_syncs(b_id) == []
    assert roster_rpc.school(a_id)["pending_syncs"] == 1
    with pytest.raises(NotFound):
        roster_rpc.approve_sync(b_id, held["sync_id"])  # another school's sync: as if it did not exist
    with pytest.raises(NotFound):
        roster_rpc.pending_syncs("00XX00")
    assert roster_rpc.school(a_id)["counts"]["pupils"] == 10

    approved = roster_rpc.approve_sync(a_id, held["sync_id"])
    assert approved["pupils"]["removed"] == 6
    details = roster_rpc.school(a_id)
    assert details["counts"]["pupils"] == 4 and details["pending_syncs"] == 0


def test_read_side(roster_rpc, tmp_path, sessions):
    import_file(tmp_path, EXAMPLE_21.replace(b"<roepnaam>Julia</roepnaam>",
                                             b"<roepnaam>Julia</roepnaam><emailadres>J.Bemmel@school.nl</emailadres>"
                                             b"<rol>ICT</rol>"), "--name", "Demoschool")
    school = roster_rpc.school("99ZZ00")
    assert school["name"] == "Demoschool" and school["brin"] == "99ZZ" and school["schooljaar"] == "2014-2015"
    with sessions["roster"]() as s:
        assert dt.datetime.fromisoformat(school["last_sync_at"]) == s.get(m.School, "99ZZ00").last_sync_at
    assert school["counts"] == {"groups": 8, "pupils": 3, "staff": 3}

    groups = roster_rpc.groups("99ZZ00", 1, 5)
    assert groups["page"] == {"page": 1, "per_page": 5, "total": 8, "pages": 2}
    assert [g["name"] for g in groups["items"]] == ["4A", "4B", "Kabouters", "Muizen", "Vlinders"]
    assert {g["name"]: (g["pupil_count"], g["teacher_count"]) for g in groups["items"]}["4A"] == (0, 2)
    composite = roster_rpc.groups("99ZZ00", 2, 5)["items"]
    assert [(g["key"], g["pupil_count"]) for g in composite] == [("sg1", 1), ("sg2", 1), ("sg3", 0)]

    details = roster_rpc.group_details("99ZZ00", "sg1")
    assert [p["display_name"] for p in details["pupils"]] == ["Wimpie imp ie"]
    assert details["pupils"][0]["group_name"] == "4B"
    assert [t["key"] for t in details["teachers"]] == ["LK2"]
    assert [t["key"] for t in roster_rpc.group_details("99ZZ00", "GRP4A")["teachers"]] == ["LK1", "LK3"]
    with pytest.raises(NotFound):
        roster_rpc.group_details("99ZZ00", "nope")

    pupils = roster_rpc.pupils("99ZZ00")["items"]
    assert [(p["key"], p["group_name"]) for p in pupils] == [("00002", None), ("12345", None), ("00001", "4B")]
    assert [p["key"] for p in roster_rpc.pupils("99ZZ00", search="assa")["items"]] == ["00002"]

    teachers = roster_rpc.teachers("99ZZ00")["items"]
    lk2 = next(t for t in teachers if t["key"] == "LK2")
    assert lk2["groups"] == ["001", "002", "sg1", "sg2", "sg3"]
    assert lk2["group_names"] == ["Kabouters", "Muizen", "Samgroep 1", "Samgroep 2", "Samgroep 3"]
    [ict] = roster_rpc.ict_coordinators("99ZZ00")["items"]
    assert (ict["key"], ict["email"], ict["is_ict_coordinator"]) == ("LK1", "j.bemmel@school.nl", True)
    assert roster_rpc.staff("99ZZ00", ict_only=True)["items"] == [ict]
    with pytest.raises(NotFound):
        roster_rpc.groups("00XX00")


def test_a_staff_member_of_several_schools(roster_rpc, tmp_path):
    a, b = synthetic.school(41, pupils=8), synthetic.school(42, pupils=8)
    shared_email = "m.de.jong@stichting.example"
    a.staff["LK001"] = a.staff["LK001"].__class__(**{**a.staff["LK001"].__dict__, "email": shared_email})
    ict = next(s for s in b.staff.values() if s.is_ict_coordinator)
    b.staff[ict.key] = ict.__class__(**{**ict.__dict__, "email": shared_email})
    import_file(tmp_path, synthetic.to_edexml(a), "--name", "Aschool")
    import_file(tmp_path, synthetic.to_edexml(b), "--name", "Bschool")
    memberships = roster_rpc.memberships(" M.de.Jong@Stichting.example ")
    assert [(x["school_id"], x["school_name"], x["is_ict_coordinator"]) for x in memberships] == [
        (a.school.school_id, "Aschool", False), (b.school.school_id, "Bschool", True)]
    assert roster_rpc.memberships("nobody@example.org") == []


def test_nightly_sync_runs_once_with_two_roster_processes(start_services, sessions, monkeypatch):
    with FakeBasispoort() as fake:
        for i in range(3):
            fake.add_school(900 + i, synthetic.school(50 + i, pupils=15))
        tz = ZoneInfo("Europe/Amsterdam")
        due = (dt.datetime.now(tz) - dt.timedelta(minutes=1)).strftime("%H:%M")
        for key, value in {"BASISPOORT_URL": fake.url, "ROSTER_SYNC_AT": due, "ROSTER_SYNC_TZ": "Europe/Amsterdam",
                           "ROSTER_SCHEDULE_CHECK_SECONDS": "0.1", "BASISPOORT_BACKOFF_SECONDS": "0.01"}.items():
            monkeypatch.setenv(key, value)
        start_services("roster", "roster")

        def finished():
            with sessions["roster"]() as s:
                return s.execute(select(m.NightlySync).where(m.NightlySync.finished_at.is_not(None))).scalars().all()

        [run] = wait_for(finished, timeout=20, message="nightly sync finished")
        eventlet.sleep(0.5)  # five more ticks of each process: nobody runs it again
        with sessions["roster"]() as s:
            assert s.scalar(select(func.count()).select_from(m.NightlySync)) == 1
            assert s.scalar(select(func.count()).select_from(m.SyncRun)) == 3
            assert s.scalar(select(func.count()).select_from(m.Pupil)) == 45
        assert run.summary["applied"] == 3 and run.summary["failed"] == 0
        assert run.run_date in (dt.datetime.now(tz).date(), dt.datetime.now(tz).date() - dt.timedelta(days=1))
        for i in range(3):
            assert fake.count(f"/rest/v2/instellingen/{900 + i}/details") == 1
        assert fake.count("/rest/v2/instellingen/") == 1


def test_no_nightly_sync_outside_its_window(start_services, sessions, monkeypatch):
    with FakeBasispoort() as fake:
        fake.add_school(900, synthetic.school(50, pupils=5))
        later = (dt.datetime.now(ZoneInfo("Europe/Amsterdam")) + dt.timedelta(hours=2)).strftime("%H:%M")
        for key, value in {"BASISPOORT_URL": fake.url, "ROSTER_SYNC_AT": later,
                           "ROSTER_SCHEDULE_CHECK_SECONDS": "0.05"}.items():
            monkeypatch.setenv(key, value)
        start_services("roster")
        eventlet.sleep(0.4)
        assert fake.requests == []
        with sessions["roster"]() as s:
            assert s.scalar(select(func.count()).select_from(m.NightlySync)) == 0
