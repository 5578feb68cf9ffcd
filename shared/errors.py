"""Domain errors that cross RPC as themselves (nameko's deserialisation registry).

The gateway maps each to one HTTP status in one table (services/gateway/errors.py).
Arguments must be JSON-safe: nameko re-creates the error from its args on the caller's side.
"""
from __future__ import annotations

from nameko.exceptions import deserialize_to_instance


class KoppelError(Exception):
    code = "error"

    def __init__(self, message: str, fields: dict | None = None):
        super().__init__(message, fields or {})
        self.message = message
        self.fields = fields or {}

    def __str__(self) -> str:
        return self.message


@deserialize_to_instance
class NotFound(KoppelError):
    code = "not_found"


@deserialize_to_instance
class InvalidInput(KoppelError):
    code = "invalid_input"


@deserialize_to_instance
class Conflict(KoppelError):
    code = "conflict"


@deserialize_to_instance
class Forbidden(KoppelError):
    code = "forbidden"


DOMAIN_ERRORS = (NotFound, InvalidInput, Conflict, Forbidden)
