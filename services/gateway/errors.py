"""One table maps every error to an HTTP status and the one error format of the API:
{"error": {"code": ..., "message": ..., "fields": {...}}}."""
from __future__ import annotations

import json
import logging

from marshmallow import ValidationError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from shared.errors import Conflict, Forbidden, InvalidInput, KoppelError, NotFound

log = logging.getLogger(__name__)


class Unauthorized(KoppelError):
    code = "unauthorized"


class ServiceUnavailable(KoppelError):
    code = "service_unavailable"


class TooManyRequests(KoppelError):
    code = "too_many_requests"


STATUS = {
    InvalidInput: 400,
    ValidationError: 400,
    Unauthorized: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    TooManyRequests: 429,
    ServiceUnavailable: 503,
    OperationalError: 503,  # the gateway's database is unreachable or refuses connections: try again later
}


JSON_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}  # answers carry personal data


def json_response(payload, status: int = 200, headers: dict | None = None) -> Response:
    return Response(json.dumps(payload, default=str), status=status, headers={**JSON_HEADERS, **(headers or {})},
                    mimetype="application/json")


def status_for(exc: Exception) -> int:
    """The HTTP status of an error (500 for anything the table does not know)."""
    if isinstance(exc, HTTPException):
        return exc.code
    return next((status for exc_type, status in STATUS.items() if isinstance(exc, exc_type)), 500)


def error_response(exc: Exception) -> Response:
    if isinstance(exc, HTTPException):
        return json_response({"error": {"code": exc.name.lower().replace(" ", "_"), "message": exc.description,
                                        "fields": {}}}, exc.code)
    for exc_type, status in STATUS.items():
        if isinstance(exc, exc_type):
            if isinstance(exc, ValidationError):
                body = {"code": "invalid_input", "message": "invalid input", "fields": exc.normalized_messages()}
            elif isinstance(exc, OperationalError):
                log.error("gateway database unavailable: %s", type(exc.orig).__name__)
                body = {"code": "service_unavailable", "message": "database unavailable", "fields": {}}
            else:
                body = {"code": exc.code, "message": exc.message, "fields": exc.fields}
            return json_response({"error": body}, status)
    log.exception("unexpected error in gateway", exc_info=exc)
    return json_response({"error": {"code": "internal_error", "message": "internal error", "fields": {}}}, 500)
