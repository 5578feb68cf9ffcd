"""The thin path through all four services on real RabbitMQ and PostgreSQL:
EDEXML import -> roster.updated -> licensing's copy -> licence coupled over HTTP by a logged-in
ICT coordinator -> license.coupled -> results records it; and /health."""
import json

from click.testing import CliRunner
from nameko.standalone.rpc import ClusterRpcProxy
from sqlalchemy import select

from services.cli import main as koppel
from services.licensing import models as lm
from services.results import models as rm
from services.roster import models as ro
from shared.config import PROJECT_ROOT
from tests.conftest import wait_for
from tests.gateway_fixtures import COORDINATOR, PASSWORD, create_account

EXAMPLE = PROJECT_ROOT / "scripts/demo/demoschool.xml"  # the EDEXML example's school, with staff e-mail addresses
LICENCE = {
    "contract_number": "0040208023000010", "title": "Argus Clou aardrijkskunde digibordsoftware groep 3",
    "isbn": "9789402018141", "article_number": "540534", "method": "Argus Clou",
    "product_type": "Digibordsoftware", "start_date": "2017-05-15", "end_date": "2039-12-31",
    "licence_type": "Proef", "kind": "group",
}


def register_licence(service_config) -> str:
    with ClusterRpcProxy(service_config, timeout=10) as rpc:
        return rpc.licensing.register_licence({**LICENCE, "school_id": "99ZZ00"})["id"]


def log_in_coordinator(web_session, sessions) -> None:
    create_account(sessions["gateway"], COORDINATOR)
    response = web_session.post("/api/v1/session", json={"email": COORDINATOR, "password": PASSWORD})
    assert response.status_code == 201, response.text
    web_session.http.headers["X-CSRF-Token"] = response.json()["csrf_token"]


def test_example_school_flows_from_import_to_results(start_services, sessions, web_session, service_config):
    start_services("roster", "licensing", "results", "gateway")

    result = CliRunner().invoke(koppel, ["roster", "import", str(EXAMPLE), "--json", "--name", "Demoschool"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["groups"] == {"added": 7, "changed": 0, "removed": 0}

    def licensing_groups():
        with sessions["licensing"]() as s:
            return s.scalars(select(lm.RosterGroup.key).where(lm.RosterGroup.school_id == "99ZZ00")).all()

    assert sorted(wait_for(lambda: len(licensing_groups()) == 7 and licensing_groups(), message="groups copied"))\
        == ["001", "002", "003", "GRP4A", "GRP4B", "GRP5", "sg1"]

    licence_id = register_licence(service_config)
    log_in_coordinator(web_session, sessions)
    coupled = web_session.post(f"/api/v1/schools/99ZZ00/licences/{licence_id}/groups", json={"group_key": "GRP4A"})
    assert coupled.status_code == 201, coupled.text

    def results_record():
        with sessions["results"]() as s:
            return s.scalars(select(rm.LicenceCouplingRecord)).all()

    records = wait_for(results_record, message="results recorded license.coupled")
    assert [(r.licence_id, r.target_kind, r.target_key, r.school_id) for r in records] == \
        [(licence_id, "group", "GRP4A", "99ZZ00")]

    with sessions["roster"]() as s:
        assert s.scalar(select(ro.School.name)) == "Demoschool"

    health = web_session.get("/health")
    assert health.status_code == 200
    assert health.json()["services"] == {"roster": "ok", "licensing": "ok", "results": "ok", "gateway": "ok"}


def test_coupling_an_unknown_group_is_refused_with_404(start_services, web_session, sessions, service_config):
    start_services("roster", "licensing", "gateway")
    assert CliRunner().invoke(koppel, ["roster", "import", str(EXAMPLE), "--name", "Demoschool"]).exit_code == 0
    licence_id = register_licence(service_config)
    log_in_coordinator(web_session, sessions)
    response = web_session.post(f"/api/v1/schools/99ZZ00/licences/{licence_id}/groups", json={"group_key": "nope"})
    assert response.status_code == 404
    assert response.json()["error"]["fields"] == {"group_key": ["unknown group"]}


def test_health_is_503_when_a_service_does_not_answer(start_services, web_session):
    start_services("roster", "gateway")
    response = web_session.get("/health")
    assert response.status_code == 503
    services = response.json()["services"]
    assert services["roster"] == "ok"
    assert services["licensing"] != "ok" and services["results"] != "ok"
