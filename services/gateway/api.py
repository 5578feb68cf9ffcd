"""The gateway's JSON entrypoint and the `endpoint` decorator every /api/v1 route uses.

`endpoint` does the same for every route, so no handler can forget it: authorize the caller at the
route's level (services.gateway.auth), load the query and the JSON body through their schemas, dump
the answer through the response schema, and record the route for the OpenAPI document. Errors go
through the one table in errors.py and come out as {"error": {"code", "message", "fields"}}.
"""
from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field

from marshmallow import Schema
from nameko.web.handlers import HttpRequestHandler
from werkzeug.wrappers import Response

from services.gateway import auth
from services.gateway.errors import error_response, json_response
from services.gateway.webserver import KoppelWebServer
from shared.errors import InvalidInput


class JsonHttp(HttpRequestHandler):
    server = KoppelWebServer()

    def response_from_result(self, result):
        if isinstance(result, Response):
            return result
        status, payload = (result if isinstance(result, tuple) else (200, result))
        if payload is None:
            return Response(status=status)
        return json_response(payload, status)

    def response_from_exception(self, exc):
        return error_response(exc)


api = JsonHttp.decorator


@dataclass
class Operation:
    """One documented route of the HTTP API (what openapi.py turns into the OpenAPI document)."""
    method: str
    path: str
    name: str
    summary: str
    tag: str
    level: str | None
    query: type[Schema] | None = None
    body: type[Schema] | None = None
    response: type[Schema] | None = None
    status: int = 200
    errors: tuple[int, ...] = field(default_factory=tuple)
    media_type: str | None = None  # a binary answer (e.g. application/pdf) instead of a JSON schema


OPERATIONS: list[Operation] = []


@dataclass(frozen=True)
class Dumped:
    """An answer already dumped through the route's response schema (e.g. kept in a cache)."""
    data: object


def json_body(request) -> dict:
    if request.mimetype != "application/json":
        # also keeps cross-site HTML forms out: they cannot send application/json without CORS
        raise InvalidInput("request body must be application/json", {"body": ["expected application/json"]})
    try:
        data = json.loads(request.get_data(as_text=True) or "{}")
    except ValueError:
        raise InvalidInput("request body is not valid JSON", {"body": ["invalid JSON"]}) from None
    if not isinstance(data, dict):
        raise InvalidInput("request body must be a JSON object", {"body": ["expected an object"]})
    return data


@functools.cache
def instance(schema: type[Schema]) -> Schema:
    """One instance per schema class: building a Schema's fields costs more than dumping 8 licences."""
    return schema()


def load(schema: type[Schema], data: dict, where: str) -> dict:
    from marshmallow import ValidationError

    try:
        return instance(schema).load(data)
    except ValidationError as exc:
        raise InvalidInput(f"invalid {where}", exc.normalized_messages()) from None


def _errors_for(level: str | None, query, body, path: str) -> tuple[int, ...]:
    codes = set()
    if query or body or "<" in path:
        codes.add(400)
    if level:
        codes.add(401)
    if level in ("school", "beheer") or "<" in path:
        codes.add(404)
    if level == "beheer" or body:
        codes.add(403)
    codes.add(503)
    return tuple(sorted(codes))


def endpoint(method: str, path: str, *, summary: str, tag: str, level: str | None,
             query: type[Schema] | None = None, body: type[Schema] | None = None,
             response: type[Schema] | None = None, status: int = 200, errors: tuple[int, ...] = (),
             media_type: str | None = None):
    """Declare a JSON route. The handler is called as handler(self, request, caller, **path_args,
    [query=...], [body=...]) and returns the data to dump, or a ready Response. A route whose answer is
    a file (media_type, e.g. "application/pdf") returns the Response itself; its errors are still JSON."""
    def decorate(fn):
        OPERATIONS.append(Operation(method, path, fn.__name__, summary, tag, level, query, body, response,
                                    status, tuple(sorted(set(errors) | set(_errors_for(level, query, body, path)))),
                                    media_type))

        @functools.wraps(fn)
        def handler(self, request, **path_args):
            caller = (auth.authorize(self.session, self.roster, request, level, path_args.get("school_id"),
                                     cached=True) if level else None)
            kwargs = dict(path_args)
            if query is not None:
                kwargs["query"] = load(query, request.args.to_dict(), "query")
            if body is not None:
                kwargs["body"] = load(body, json_body(request), "body")
            result = fn(self, request, caller, **kwargs)
            if isinstance(result, Response):
                return result
            if isinstance(result, Dumped):
                return status, result.data
            return status, (instance(response).dump(result) if response is not None else None)

        return api(method, path)(handler)

    return decorate
