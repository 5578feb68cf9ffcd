"""The gateway's HTTP entrypoint: JSON in and out, errors through the one table in errors.py."""
from __future__ import annotations

import json

from nameko.web.handlers import HttpRequestHandler
from werkzeug.wrappers import Response

from services.gateway.errors import error_response, json_response
from shared.errors import InvalidInput


class JsonHttp(HttpRequestHandler):
    def response_from_result(self, result):
        if isinstance(result, Response):
            return result
        status, payload = (result if isinstance(result, tuple) else (200, result))
        return json_response(payload, status)

    def response_from_exception(self, exc):
        return error_response(exc)


api = JsonHttp.decorator


def json_body(request) -> dict:
    try:
        data = json.loads(request.get_data(as_text=True) or "{}")
    except ValueError:
        raise InvalidInput("request body is not valid JSON", {"body": ["invalid JSON"]}) from None
    if not isinstance(data, dict):
        raise InvalidInput("request body must be a JSON object", {"body": ["expected an object"]})
    return data
