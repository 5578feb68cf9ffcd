"""Marshmallow contracts of the results service (RPC input and output)."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from shared.events import SCHOOL_ID, ResultRecorded


class ResultInput(ResultRecorded):
    """`record_result(data)`: the `result.recorded` payload plus the school it belongs to."""
    school_id = fields.String(required=True, validate=SCHOOL_ID)


class ConsentSchema(Schema):
    given = fields.Boolean()
    by = fields.String(allow_none=True)
    at = fields.AwareDateTime(allow_none=True)


class LvsCouplingInput(Schema):
    lvs = fields.String(required=True)
    endpoint_url = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))
    # UWLR's autorisatiesleutel is a tpString64
    authorisation_key = fields.String(required=True, validate=validate.Length(min=1, max=64))


class LvsKeyInput(Schema):
    authorisation_key = fields.String(required=True, validate=validate.Length(min=1, max=64))


class LvsCouplingSchema(Schema):
    id = fields.String()
    lvs = fields.String()
    lvs_name = fields.String()
    endpoint_url = fields.String(allow_none=True)
    key_hint = fields.String()
    status = fields.String()
    last_export_at = fields.AwareDateTime(allow_none=True)
    last_export_count = fields.Integer(allow_none=True)
    last_error = fields.String(allow_none=True)
