"""The gateway's routes, without a broker: every route is declared once, with an authorization level,
and the OpenAPI document is generated from the same declarations."""
import inspect

from nameko.web.handlers import HttpRequestHandler

from services.gateway.api import OPERATIONS
from services.gateway.openapi import document
from services.gateway.rest import RestApi
from services.gateway.service import GatewayService
from services.gateway.ui import AdminUi


def routes():
    found = []
    for name, member in inspect.getmembers(GatewayService, inspect.isfunction):
        for ext in getattr(member, "nameko_entrypoints", ()):
            if isinstance(ext, HttpRequestHandler):
                found.append((ext.method, ext.url, name))
    return found


def test_no_entrypoint_of_one_part_hides_another():
    # GatewayService mixes the JSON API and the UI: a method of the same name would silently drop a route
    api_names = {n for n, _ in inspect.getmembers(RestApi, inspect.isfunction)}
    ui_names = {n for n, _ in inspect.getmembers(AdminUi, inspect.isfunction)}
    assert api_names & ui_names == set()


def test_every_route_is_unique_and_every_api_route_is_documented():
    found = routes()
    assert len({(m, u) for m, u, _ in found}) == len(found)
    api = {(m, u) for m, u, _ in found if u.startswith("/api/v1/") and u != "/api/v1/openapi.json"}
    documented = {(op.method, op.path) for op in OPERATIONS}
    assert api == documented
    assert len(api) >= 25


def test_every_api_operation_declares_its_level_and_school_routes_are_scoped():
    for op in OPERATIONS:
        assert op.level in (None, "session", "school", "beheer"), op.name
        if "<string:school_id>" in op.path:
            assert op.level in ("school", "beheer"), op.name
    public = sorted(op.name for op in OPERATIONS if op.level is None)
    assert public == ["login", "password_reset", "set_password"]


def test_openapi_names_a_schema_for_every_body_and_response():
    doc = document()
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            ok = [code for code in operation["responses"] if code.startswith("2")]
            assert len(ok) == 1, (method, path)
            if ok[0] != "204":
                content = operation["responses"][ok[0]]["content"]
                if "application/json" in content:
                    assert "$ref" in str(content), (method, path)
                else:  # a file: the only one is the Printversie PDF
                    assert content == {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}, \
                        (method, path)
            if method in ("post", "put") and not path.endswith(("/invitation",)):
                assert "requestBody" in operation, (method, path)
            for code in operation["responses"]:
                if code[0] in "45":
                    assert operation["responses"][code]["content"]["application/json"]["schema"] == \
                        {"$ref": "#/components/schemas/Error"}


def test_nameko_run_finds_one_service_in_the_gateway_module():
    from nameko.cli.run import import_service

    assert import_service("services.gateway.service") == [GatewayService]
