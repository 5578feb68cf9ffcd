"""Marshmallow contracts of the licensing service (RPC input and output)."""
from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates, validates_schema

PRODUCT_TYPES = ("Digibordsoftware", "Oefensoftware", "Verwerkingssoftware", "Toetssoftware",
                 "Resultatenmonitor", "Software handleidingen")  # the seed's order on the start page


def isbn13_ok(value: str) -> bool:
    if len(value) != 13 or not value.isdigit():
        return False
    total = sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(value[:12]))
    return (10 - total % 10) % 10 == int(value[12])


class LicenceInput(Schema):
    school_id = fields.String(required=True, validate=validate.Regexp(r"^\d{2}[A-Z]{2}\d{2}$"))
    contract_number = fields.String(required=True, validate=validate.Regexp(r"^\d{16}$", error="must be 16 digits"))
    title = fields.String(required=True, validate=validate.Length(min=1, max=300))
    isbn = fields.String(load_default=None, allow_none=True)
    article_number = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=32))
    method = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))
    product_type = fields.String(required=True, validate=validate.OneOf(PRODUCT_TYPES))
    jaargroep = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=4))
    start_date = fields.Date(required=True)
    end_date = fields.Date(required=True)
    licence_type = fields.String(load_default="Regulier", validate=validate.Length(min=1, max=32))
    kind = fields.String(required=True, validate=validate.OneOf(["group", "pupil"]))
    seats = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1, max=100000))

    @validates("isbn")
    def _isbn(self, value, **_):
        if value is not None and not isbn13_ok(value.replace("-", "")):
            raise ValidationError("not a valid ISBN-13 (checksum)")

    @validates_schema
    def _consistent(self, data, **_):
        if data["end_date"] < data["start_date"]:
            raise ValidationError("end date before start date", "end_date")
        if data["kind"] == "pupil" and not data.get("seats"):
            raise ValidationError("a per-child licence needs a number of seats", "seats")
        if data["kind"] == "group" and data.get("seats"):
            raise ValidationError("a group licence has no seats", "seats")


class LicenceSchema(Schema):
    id = fields.String()
    school_id = fields.String()
    contract_number = fields.String()
    title = fields.String()
    isbn = fields.String(allow_none=True)
    article_number = fields.String(allow_none=True)
    method = fields.String(allow_none=True)
    product_type = fields.String()
    jaargroep = fields.String(allow_none=True)
    start_date = fields.Date()
    end_date = fields.Date()
    licence_type = fields.String()
    kind = fields.String()
    seats = fields.Integer(allow_none=True)
    seats_used = fields.Integer()
    seats_available = fields.Method("_available")
    active = fields.Boolean()

    def _available(self, obj):
        return None if obj.seats is None else obj.seats - obj.seats_used


class CouplingSchema(Schema):
    id = fields.String()
    licence_id = fields.String()
    target_kind = fields.String()
    target_key = fields.String()
    coupled_by = fields.String()
    coupled_at = fields.AwareDateTime()
    ended_at = fields.AwareDateTime(allow_none=True)
    ended_reason = fields.String(allow_none=True)
