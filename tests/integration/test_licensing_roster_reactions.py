"""Licensing reacts to roster changes that really flow from the roster service: EDEXML imported
into roster -> roster.updated through roster's outbox and RabbitMQ -> licensing's copy and couplings
-> license.decoupled through licensing's outbox -> results."""
import json

from click.testing import CliRunner
from nameko.standalone.rpc import ServiceRpcProxy
from sqlalchemy import select

from services.cli import main as koppel
from services.licensing import models as lm
from services.results import models as rm
from services.roster import edexml as roster_edexml
from services.roster import store
from shared.errors import NotFound
from tests.conftest import wait_for
from tests.edexml_builder import edexml
from tests.integration.licensing_helpers import SCHOOL, licence_data

GROUPS = {"5A": ("Groep 5A", "5"), "5B": ("Groep 5B", "5"), "6A": ("Groep 6A", "6"), "sg1": ("Plusklas", None)}
PUPILS = {**{f"P{i}": ("5A", ["sg1"] if i == 1 else []) for i in range(1, 6)},
          **{f"P{i}": ("5B", []) for i in range(6, 11)}, "P12": ("6A", [])}
TEACHERS = {"T5A": ["5A"], "T5B": ["5B", "sg1"], "T6A": ["6A"]}


def copy_state(sessions, model):
    with sessions["licensing"]() as s:
        return {r.key: r for r in s.scalars(select(model).where(model.school_id == SCHOOL))}


def test_roster_changes_end_couplings_free_seats_and_move_access(start_services, sessions, rabbit_config, tmp_path):
    start_services("roster", "licensing", "results")
    first = tmp_path / "school-v1.xml"
    first.write_bytes(edexml(GROUPS, PUPILS, TEACHERS))
    result = CliRunner().invoke(koppel, ["roster", "import", str(first), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["pupils"]["added"] == 11
    wait_for(lambda: len(copy_state(sessions, lm.RosterPupil)) == 11, message="licensing copied the roster")

    with ServiceRpcProxy("licensing", {**rabbit_config, "serializer": "json"}) as licensing:
        group_lic = licensing.register_licence(licence_data(title="Taal Actief 5 digibord", method="Taal Actief"))
        only_6a = licensing.register_licence(licence_data(title="Alleen 6A", method="Staal"))
        seats = licensing.register_licence(licence_data(kind="pupil", seats=3, title="Rekenen per kind"))
        for lic, group in ((group_lic, "5A"), (group_lic, "6A"), (only_6a, "6A")):
            licensing.couple_group(SCHOOL, lic["id"], group, "ict@school")
        for pupil in ("P1", "P6", "P7"):
            licensing.couple_pupil(SCHOOL, seats["id"], pupil, "ict@school")
        assert [e["title"] for e in licensing.entitlements(SCHOOL, "pupil", "P6")] == ["Rekenen per kind"]

        # next night: 6A is gone (P12 with it), P7 left the school, P6 moved to 5A, P11 joined 5A
        pupils = {k: v for k, v in PUPILS.items() if k not in ("P7", "P12")}
        pupils["P6"] = ("5A", [])
        pupils["P11"] = ("5A", [])
        groups = {k: v for k, v in GROUPS.items() if k != "6A"}
        teachers = {"T5A": ["5A"], "T5B": ["5B", "sg1"]}
        with sessions["roster"]() as s, s.begin():
            report = store.sync_school(s, roster_edexml.parse_bytes(edexml(groups, pupils, teachers)))
        assert report["applied"] and report["groups"]["removed"] == 1 and report["pupils"]["removed"] == 2

        def ended():
            with sessions["licensing"]() as s:
                return sorted((c.target_key, c.ended_reason, c.ended_by) for c in s.scalars(
                    select(lm.Coupling).where(lm.Coupling.ended_at.is_not(None))))

        wait_for(lambda: len(ended()) == 3, message="couplings ended by the roster change")
        assert ended() == [("6A", "group_removed", "roster"), ("6A", "group_removed", "roster"),
                           ("P7", "pupil_left", "roster")]
        detail = licensing.licence(SCHOOL, seats["id"])
        assert (detail["seats_used"], detail["seats_available"]) == (2, 1)
        assert sorted((c["target_key"], c["group_key"]) for c in detail["couplings"]) == [("P1", "5A"), ("P6", "5A")]
        assert [c["target_key"] for c in licensing.licence(SCHOOL, group_lic["id"])["couplings"]] == ["5A"]
        assert licensing.licence(SCHOOL, only_6a["id"])["couplings"] == []

        # the mover keeps the seat and gets 5A's licence; the newcomer has it at once
        assert [(e["title"], e["via"]) for e in licensing.entitlements(SCHOOL, "pupil", "P6")] == [
            ("Rekenen per kind", [{"kind": "seat"}]), ("Taal Actief 5 digibord", [{"kind": "group", "key": "5A"}])]
        assert [e["title"] for e in licensing.entitlements(SCHOOL, "pupil", "P11")] == ["Taal Actief 5 digibord"]
        for gone in ("P7", "P12"):
            try:
                licensing.entitlements(SCHOOL, "pupil", gone)
                raise AssertionError(f"{gone} left the school but still has entitlements")
            except NotFound:
                pass
        assert [k["key"] for k in licensing.known_pupils(SCHOOL, "5A")] == ["P1", "P11", "P2", "P3", "P4", "P5",
                                                                             "P6"]

    def results_view():
        with sessions["results"]() as s:
            return sorted((r.target_key, r.ended_at is not None) for r in s.scalars(select(rm.LicenceCouplingRecord)))

    # license.decoupled left licensing through its outbox and reached another service
    expected = [("5A", False), ("6A", True), ("6A", True), ("P1", False), ("P6", False), ("P7", True)]
    wait_for(lambda: results_view() == expected, message="results saw the decouplings")
