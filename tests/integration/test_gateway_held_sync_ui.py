"""Schoolgegevens -> Gegevens shows a sync held by the mass-deletion guard and lets the coordinator
apply it (issue 3: "later, from the admin UI"); real roster service, RabbitMQ and PostgreSQL."""
import json
import re

from click.testing import CliRunner

from services.cli import main as koppel
from tests.gateway_fixtures import COORDINATOR, COORDINATOR_B, DEMO, A, login
from tests.integration.test_gateway_pupil_logins_ui import flash

pytest_plugins = ["tests.gateway_fixtures"]


def hold_a_half_empty_export(tmp_path) -> dict:
    xml = (DEMO / "demoschool.xml").read_text()
    blocks = re.findall(r"\s*<leerling key=\"[^\"]+\">.*?</leerling>", xml, re.S)
    kept = blocks[: len(blocks) // 3]
    path = tmp_path / "half.xml"
    path.write_text(xml.replace("".join(blocks), "".join(kept)))
    result = CliRunner().invoke(koppel, ["roster", "import", str(path), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["pending_approval"] is True, report
    return {**report, "removed": len(blocks) - len(kept), "before": len(blocks)}


def pupil_count(demo_stack) -> int:
    with demo_stack.rpc() as rpc:
        return rpc.roster.pupils(A, 1, 1)["page"]["total"]


def test_a_held_sync_is_shown_and_applied_from_gegevens(demo_stack, web_session, tmp_path):
    held = hold_a_half_empty_export(tmp_path)
    login(web_session, COORDINATOR, school_id=A)
    page = web_session.get("/beheer/schoolgegevens/gegevens")
    assert "Synchronisaties die wachten op goedkeuring" in page.text
    assert f"{held['removed']} van {held['before']} verwijderd" in page.text
    assert pupil_count(demo_stack) == held["before"]

    applied = web_session.post("/beheer/schoolgegevens/synchronisatie/toepassen", data={"sync_id": held["sync_id"]})
    assert flash(applied) == "De synchronisatie is toegepast."
    assert "Synchronisaties die wachten op goedkeuring" not in applied.text
    assert pupil_count(demo_stack) == held["before"] - held["removed"]
    again = web_session.post("/beheer/schoolgegevens/synchronisatie/toepassen", data={"sync_id": held["sync_id"]})
    assert flash(again) == "Dat kan niet: de gegevens zijn intussen gewijzigd."


def test_another_schools_coordinator_cannot_apply_it(demo_stack, web_session, tmp_path):
    held = hold_a_half_empty_export(tmp_path)
    login(web_session, COORDINATOR_B)
    page = web_session.get("/beheer/schoolgegevens/gegevens")
    assert "Synchronisaties die wachten op goedkeuring" not in page.text
    answer = web_session.post("/beheer/schoolgegevens/synchronisatie/toepassen", data={"sync_id": held["sync_id"]})
    assert flash(answer) == "Niet gevonden."
    assert pupil_count(demo_stack) == held["before"]
