"""Marshmallow contracts of the pupil-login RPCs: what callers send, and what they get back."""
from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from services.roster.pictures import NAMES, PICTURE_LOGIN_LENGTH
from shared.errors import InvalidInput

METHODS = ("pincode", "pictures")
MAX_HOME_EMAILS = 2

_by = fields.String(required=True, validate=validate.Length(min=1, max=256))
_pincode = validate.Regexp(r"^[0-9]{4}\Z", error="must be exactly 4 digits (0-9)")
_picture = fields.String(validate=validate.OneOf(NAMES, error="not a picture of the picture set"))


class MethodInput(Schema):
    method = fields.String(required=True, validate=validate.OneOf(METHODS, error="must be pincode or pictures"))
    by = _by


class PincodeInput(Schema):
    pincode = fields.String(required=True, validate=_pincode)
    by = _by


class PicturesInput(Schema):
    pictures = fields.List(_picture, required=True, validate=validate.Length(
        equal=PICTURE_LOGIN_LENGTH, error=f"must be exactly {PICTURE_LOGIN_LENGTH} pictures"))
    by = _by


class HomeEmailInput(Schema):
    email = fields.Email(required=True, validate=validate.Length(max=254))


class VerifyInput(Schema):
    """Exactly one of the two; a wrong but well-typed answer is a failed attempt, not an input error."""
    pincode = fields.String(load_default=None, allow_none=True)
    pictures = fields.List(fields.String(), load_default=None, allow_none=True)

    @validates_schema
    def _one_answer(self, data, **_):
        if (data["pincode"] is None) == (data["pictures"] is None):
            raise ValidationError("give either pincode or pictures", "login")


def load(schema: Schema, data: dict) -> dict:
    """Load input through its contract; InvalidInput names every bad field, never echoes a value."""
    try:
        return schema.load(data)
    except ValidationError as exc:
        raise InvalidInput("invalid input", _flatten(exc.messages)) from None


def _flatten(messages) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for field, problems in messages.items():
        if isinstance(problems, dict):  # a list field: {index: [messages]}
            out[field] = [f"item {int(i) + 1}: {msg}" for i, msgs in problems.items() for msg in msgs]
        else:
            out[field] = [str(p) for p in problems]
    return out


class PupilLoginSchema(Schema):
    key = fields.String()
    display_name = fields.String()
    login_method = fields.String()
    pincode = fields.String()
    pictures = fields.List(fields.String())
    home_emails = fields.List(fields.String())


class GroupLoginsSchema(Schema):
    group_key = fields.String()
    group_name = fields.String()
    composite = fields.Boolean()
    login_method = fields.String(allow_none=True)  # None for a composite group: its pupils follow their own group
    pupils = fields.List(fields.Nested(PupilLoginSchema))
