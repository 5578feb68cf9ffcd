"""gateway service: HTTP for the admin front end; talks to the other services over RPC only."""
from __future__ import annotations

import eventlet
from marshmallow import Schema, fields
from nameko.rpc import RpcProxy

from services.gateway.api import api, json_body
from services.gateway.errors import json_response

HEALTH_TIMEOUT = 2.0
BACKENDS = ("roster", "licensing", "results")


class CoupleGroupBody(Schema):
    group_key = fields.String(required=True)


class GatewayService:
    name = "gateway"

    roster = RpcProxy("roster")
    licensing = RpcProxy("licensing")
    results = RpcProxy("results")

    @api("GET", "/health")
    def health(self, request):
        """200 when every service answers over RPC within the timeout, else 503; per-service state."""
        state, pending = {}, {}
        for name in BACKENDS:
            try:
                pending[name] = getattr(self, name).health.call_async()
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

    @api("GET", "/api/v1/schools/<string:school_id>/groups")
    def groups(self, request, school_id):
        return self.roster.groups(school_id, int(request.args.get("page", 1)), int(request.args.get("per_page", 50)))

    @api("GET", "/api/v1/schools/<string:school_id>/licences")
    def licences(self, request, school_id):
        return {"items": self.licensing.list_licences(school_id, request.args.get("kind"),
                                                      request.args.get("active") == "true")}

    @api("POST", "/api/v1/schools/<string:school_id>/licences")
    def register_licence(self, request, school_id):
        return 201, self.licensing.register_licence({**json_body(request), "school_id": school_id})

    @api("POST", "/api/v1/schools/<string:school_id>/licences/<string:licence_id>/groups")
    def couple_group(self, request, school_id, licence_id):
        body = CoupleGroupBody().load(json_body(request))
        return 201, self.licensing.couple_group(school_id, licence_id, body["group_key"], "api")
