"""The OpenAPI 3 document of /api/v1, generated (apispec) from the routes' own marshmallow schemas."""
from __future__ import annotations

import re
from functools import cache

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from services.gateway import schemas as s
from services.gateway.api import OPERATIONS, Operation
from services.gateway.auth import SESSION_COOKIE

DESCRIPTIONS = {400: "invalid input (fields say where)", 401: "not logged in, or wrong e-mail or password",
                403: "CSRF token missing or wrong, or not an ICT coordinator",
                404: "not found (also: another school's anything)", 409: "conflict (e.g. no seats left)",
                429: "too many attempts", 503: "a backend service is not available"}
PATH_PARAM = re.compile(r"<(?:\w+:)?(\w+)>")
PARAM_SCHEMAS = {"school_id": {"type": "string", "pattern": r"^\d{2}[A-Z]{2}\d{2}$", "example": "99ZZ00"}}


def _parameters(op: Operation) -> list[dict]:
    params = [{"in": "path", "name": name, "required": True,
               "schema": PARAM_SCHEMAS.get(name, {"type": "string", "minLength": 1, "maxLength": 64})}
              for name in PATH_PARAM.findall(op.path)]
    if op.query is not None:
        params.append({"in": "query", "schema": op.query})
    return params


def _operation(op: Operation) -> dict:
    success = {"description": "OK"}
    if op.response is not None:
        success["content"] = {"application/json": {"schema": op.response}}
    elif op.media_type is not None:
        success["content"] = {op.media_type: {"schema": {"type": "string", "format": "binary"}}}
    responses = {str(op.status): success}
    for code in op.errors:
        responses[str(code)] = {"description": DESCRIPTIONS[code],
                                "content": {"application/json": {"schema": s.Error}}}
    operation = {"operationId": op.name, "summary": op.summary, "tags": [op.tag],
                 "parameters": _parameters(op), "responses": responses}
    if op.body is not None:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": op.body}}}
    if op.level:
        operation["security"] = [{"session": [], "csrf": []}] if op.method != "GET" else [{"session": []}]
    return operation


@cache
def document() -> dict:
    spec = APISpec(title="koppel gateway", version="1.0.0", openapi_version="3.0.3",
                   plugins=[MarshmallowPlugin()],
                   info={"description": "The admin API of koppel. Log in with POST /api/v1/session; the "
                                        "session cookie is HttpOnly. Every POST, PUT, PATCH and DELETE of a "
                                        "logged-in client sends the session's csrf_token as X-CSRF-Token. "
                                        "School routes answer only for the chosen school."})
    spec.components.security_scheme("session", {"type": "apiKey", "in": "cookie", "name": SESSION_COOKIE})
    spec.components.security_scheme("csrf", {"type": "apiKey", "in": "header", "name": "X-CSRF-Token"})
    paths: dict[str, dict] = {}
    for op in OPERATIONS:
        paths.setdefault(PATH_PARAM.sub(r"{\1}", op.path), {})[op.method.lower()] = _operation(op)
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()
