"""The admin UI in a real browser (Debian's Chromium, Playwright) against the stack started here:
the flows of the users' manual §3 and §5, then what they left in the databases."""
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from services.licensing import models as lm
from services.results.service import ResultsService
from shared.config import PROJECT_ROOT

pytest_plugins = ["tests.gateway_fixtures"]
# CI (KOPPEL_REQUIRE_BROWSER=1, set by .ci/run) fails instead of skipping when Chromium is missing
pytestmark = [pytest.mark.e2e, pytest.mark.skipif(not Path("/usr/bin/chromium").exists()
                                                  and os.environ.get("KOPPEL_REQUIRE_BROWSER") != "1",
                                                  reason="needs Debian's chromium (.ci/run installs it)")]
FLOWS = Path(__file__).with_name("browser_flows.py")
WITH_RESULTS = hasattr(ResultsService, "add_lvs_coupling")  # the results branch brings Resultaatkoppelingen


def run_flow(flow: str, base: str, tmp_path) -> None:
    # KOPPEL_SCREENSHOTS=docs/screenshots refreshes the README's screenshots
    shots = os.environ.get("KOPPEL_SCREENSHOTS") or str(tmp_path / "shots")
    command = [sys.executable, str(FLOWS), flow, base, str(PROJECT_ROOT / shots) if not os.path.isabs(shots)
               else shots] + (["--with-results"] if WITH_RESULTS else [])
    env = {k: v for k, v in os.environ.items() if k != "PYTHONWARNINGS"}
    result = subprocess.run(command, capture_output=True, text=True, timeout=240, env=env)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-6000:]


def test_coordinator_logs_in_chooses_a_school_and_couples_licences(demo_stack, web_session, sessions, tmp_path,
                                                                   monkeypatch):
    if WITH_RESULTS:
        monkeypatch.setenv("RESULTS_LVS_ALLOW_HTTP", "0")
    run_flow("coordinator", web_session.base, tmp_path)
    with sessions["licensing"]() as s:
        active = s.execute(select(lm.Coupling.target_kind, lm.Coupling.target_key, lm.Coupling.coupled_by)
                           .where(lm.Coupling.ended_at.is_(None)).order_by(lm.Coupling.target_key)).all()
        seat_licence = s.scalar(select(lm.Licence).where(lm.Licence.contract_number == "0040344420000010"))
    # what the browser did is what the databases hold: 4A coupled, one seat left taken (Noor ontkoppeld)
    assert [(k, key) for k, key, _ in active] == [("group", "GRP4A"), ("pupil", "LL002")]
    assert {by for _, _, by in active} == {"staff:LK9"}  # the staff key, not the e-mail address
    assert seat_licence.seats_used == 1


def test_teacher_sees_the_licences_of_her_groups_and_finds_no_beheer(demo_stack, web_session, tmp_path):
    from tests.gateway_fixtures import COORDINATOR, A, login

    login(web_session, COORDINATOR, school_id=A)
    for title in ("digibordsoftware groep 4", "Taal Actief 4 toetssoftware", "Taal Actief 4 oefensoftware"):
        licence = demo_stack.licence(A, title)
        response = web_session.post(f"/api/v1/schools/{A}/licences/{licence['id']}/groups", json={"group_key": "GRP4A"})
        assert response.status_code == 201, response.text
    run_flow("teacher", web_session.base, tmp_path)


def test_coordinator_manages_pupil_logins_and_a_parent_activates_a_thuislogin(demo_stack, sessions, web_session,
                                                                             tmp_path):
    from services.roster.login_models import HomeLogin, PupilLogin
    from shared.secrets import decrypt

    run_flow("logins", web_session.base, tmp_path)
    with sessions["roster"]() as s:  # what the browser did is what the roster holds
        login = s.get(PupilLogin, ("99ZZ00", "LL001"))
        assert decrypt(login.pincode_secret) == "2468"
        assert decrypt(login.pictures_secret) == "zon,maan,ster"
        # activated by the parent in the browser, then removed by the coordinator
        assert s.scalars(select(HomeLogin).where(HomeLogin.pupil_key == "LL001")).all() == []
