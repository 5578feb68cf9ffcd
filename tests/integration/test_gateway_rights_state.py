"""The licence page and the API show each coupling's right in Basispoort (issue 4: "a visible
state"), from the rights pusher's newest push; without pushes the column is not there."""
import datetime as dt
import uuid

from sqlalchemy import select

from services.licensing import models as lm
from tests.gateway_fixtures import COORDINATOR, A, login

pytest_plugins = ["tests.gateway_fixtures"]
CONTRACT = "0040207781000010"  # Argus Clou aardrijkskunde digibordsoftware groep 7, a group licence


def record_push(sessions, coupling_id: str, licence_id: str, state: str, attempts: int, error: str | None) -> None:
    """What the pusher leaves behind (tests/integration/test_licensing_basispoort_rights.py drives the real one)."""
    now = dt.datetime.now(dt.UTC)
    with sessions["licensing"]() as s, s.begin():
        s.add(lm.RightsPush(id=str(uuid.uuid4()), coupling_id=coupling_id, licence_id=licence_id, school_id=A,
                            action="grant", method_id="argus-clou", product_id="1", users=[], state=state,
                            attempts=attempts, next_attempt_at=now, last_error=error, created_at=now,
                            done_at=None if state != "done" else now))


def test_the_basispoort_state_of_a_coupling_is_shown(demo_stack, web_session, sessions):
    licence = demo_stack.licences[A][CONTRACT]
    login(web_session, COORDINATOR, school_id=A)
    page = f"/beheer/licenties/{licence['id']}"
    coupled = web_session.post(f"{page}/groepen", data={"group_key": "GRP4A"})
    assert "De licentie is aan de groep gekoppeld." in coupled.text
    assert "<th scope=\"col\">Basispoort</th>" not in coupled.text  # nothing pushed: no column
    with sessions["licensing"]() as s:
        coupling_id = s.scalar(select(lm.Coupling.id).where(lm.Coupling.licence_id == licence["id"]))

    record_push(sessions, coupling_id, licence["id"], "failed", 8, "HTTP 503 from Basispoort")
    shown = web_session.get(page).text
    assert "<th scope=\"col\">Basispoort</th>" in shown
    assert "Doorgeven aan Basispoort is mislukt (na 8 pogingen)" in shown
    api = web_session.get(f"/api/v1/schools/{A}/licences/{licence['id']}").json()
    (coupling,) = api["couplings"]
    assert coupling["basispoort"]["state"] == "failed" and coupling["basispoort"]["attempts"] == 8
    assert coupling["basispoort"]["last_error"] == "HTTP 503 from Basispoort"

    record_push(sessions, coupling_id, licence["id"], "done", 1, None)  # the newest push wins
    assert "Doorgegeven aan Basispoort" in web_session.get(page).text
