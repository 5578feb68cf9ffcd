"""The OpenAPI document is served, generated from the routes' schemas, and a bounded schemathesis run
(the CLI from PyPI) against the gateway started here, logged in as an ICT coordinator, finds no
server error (5xx) and no response that breaks the documented schema."""
import os
import subprocess
import sys
from pathlib import Path

from services.licensing.service import LicensingService
from services.results.service import ResultsService
from tests.gateway_fixtures import COORDINATOR, A, login

pytest_plugins = ["tests.gateway_fixtures"]
MAX_EXAMPLES = os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "10")
MAX_SECONDS = os.environ.get("SCHEMATHESIS_MAX_SECONDS", "60")  # the whole run's budget


def test_openapi_document_describes_every_route_with_its_schemas(demo_stack, web_session):
    response = web_session.get("/api/v1/openapi.json")
    assert response.status_code == 200
    doc = response.json()
    assert doc["openapi"].startswith("3.")
    couple = doc["paths"]["/api/v1/schools/{school_id}/licences/{licence_id}/groups"]["post"]
    assert couple["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/"
                                                                                      "CoupleGroupBody"}
    assert {"201", "400", "401", "403", "404"} <= set(couple["responses"])
    assert doc["components"]["schemas"]["CoupleGroupBody"]["required"] == ["group_key"]
    licences = doc["paths"]["/api/v1/schools/{school_id}/licences"]["get"]
    assert {p["name"] for p in licences["parameters"]} >= {"school_id", "page", "per_page", "kind", "active_only"}
    assert doc["components"]["securitySchemes"]["session"] == {"type": "apiKey", "in": "cookie",
                                                               "name": "koppel_session"}


def test_schemathesis_finds_no_server_errors(demo_stack, web_session, tmp_path):
    info = login(web_session, COORDINATOR, school_id=A)
    base = web_session.base
    excluded = ["logout"]  # would end the session the run uses
    if not hasattr(ResultsService, "lvs_couplings"):
        excluded += ["consent", "set_consent", "lvs_options", "lvs_couplings", "add_lvs_coupling",
                     "update_lvs_key", "remove_lvs_coupling"]  # results RPCs arrive with the results branch
    if not hasattr(LicensingService, "teacher_start_page"):
        excluded += ["start_page"]  # arrives with the licensing branch
    command = [
        str(Path(sys.executable).parent / "schemathesis"), "run", f"{base}/api/v1/openapi.json",
        "--checks", "not_a_server_error,response_schema_conformance,status_code_conformance",
        "--max-examples", MAX_EXAMPLES, "--max-time", MAX_SECONDS, "--seed", "20261203", "--workers", "1",
        "--request-timeout", "20", "--generation-with-security-parameters", "false", "--no-color",
        "--suppress-health-check", "all", "--phases", "examples,coverage,fuzzing",
        "-H", f"Cookie: koppel_session={web_session.http.cookies.get('koppel_session')}",
        "-H", f"X-CSRF-Token: {info['csrf_token']}",
    ]
    for operation_id in excluded:
        command += ["--exclude-operation-id", operation_id]
    result = subprocess.run(command, capture_output=True, text=True, timeout=int(MAX_SECONDS) + 120, cwd=tmp_path)
    report = result.stdout[-6000:] + result.stderr[-2000:]
    print(report)
    assert result.returncode == 0, report
    assert "passed" in result.stdout.lower()
