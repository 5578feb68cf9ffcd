"""gateway service: the JSON API (rest.py) and the Dutch admin UI (ui.py) over one HTTP port; talks to
the other services over RPC only, and keeps accounts and sessions in its own database."""
from __future__ import annotations

import eventlet
from nameko.rpc import RpcProxy

from services.gateway import rest, ui
from services.gateway.api import api
from services.gateway.backends import TimedRpcProxy
from services.gateway.errors import json_response
from shared.nameko_ext import Database

HEALTH_TIMEOUT = 2.0
BACKENDS = ("roster", "licensing", "results")


# the parts are imported as modules: `nameko run` takes every class with entrypoints in this module as a service
class GatewayService(rest.RestApi, ui.AdminUi):
    name = "gateway"

    session = Database("gateway")
    roster = TimedRpcProxy("roster")
    licensing = TimedRpcProxy("licensing")
    results = TimedRpcProxy("results")
    # health asks all three at once, each with its own short timeout
    health_roster = RpcProxy("roster")
    health_licensing = RpcProxy("licensing")
    health_results = RpcProxy("results")

    @api("GET", "/health")
    def health(self, request):
        """200 when every service answers over RPC within the timeout, else 503; per-service state."""
        state, pending = {}, {}
        for name in BACKENDS:
            try:
                pending[name] = getattr(self, f"health_{name}").health.call_async()
            except Exception as exc:  # noqa: BLE001 - e.g. UnknownService: no instance has ever started
                state[name] = f"error: {type(exc).__name__}"
        for name, reply in pending.items():
            try:
                with eventlet.Timeout(HEALTH_TIMEOUT):
                    reply.result()
                state[name] = "ok"
            except eventlet.Timeout:
                state[name] = "timeout"
            except Exception as exc:  # noqa: BLE001 - health reports, never raises
                state[name] = f"error: {type(exc).__name__}"
        state["gateway"] = "ok"
        healthy = all(v == "ok" for v in state.values())
        return json_response({"status": "ok" if healthy else "degraded", "services": state}, 200 if healthy else 503)

    @api("GET", "/api/v1/openapi.json")
    def openapi(self, request):
        """The OpenAPI 3 document of this API, generated from the same schemas the routes use."""
        from services.gateway.openapi import document

        return document()
