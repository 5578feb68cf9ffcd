"""The event contracts: one envelope, one payload schema per event type.

Emitters build events with `make_event`, consumers read them with `load_event`; both go
through these schemas, so a field renamed on one side fails loudly on the other.
`docs/events.md` is generated from this module (`koppel events doc`).
"""
from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass

from marshmallow import Schema, ValidationError, fields, validate

SCHOOL_PATTERN = r"^\d{2}[A-Z]{2}\d{2}$"
SCHOOL_ID = validate.Regexp(SCHOOL_PATTERN, error="school must be BRIN + dependance, e.g. 99ZZ00")


class Envelope(Schema):
    event_id = fields.UUID(required=True)
    event_type = fields.String(required=True)
    schema_version = fields.Integer(required=True, validate=validate.Range(min=1))
    occurred_at = fields.AwareDateTime(required=True, default_timezone=dt.UTC)
    school = fields.String(required=True, validate=SCHOOL_ID)
    payload = fields.Dict(required=True)


# --- roster.updated ---------------------------------------------------------------------

class GroupState(Schema):
    key = fields.String(required=True)
    name = fields.String(required=True)
    jaargroep = fields.String(allow_none=True, load_default=None)
    composite = fields.Boolean(load_default=False)


class PupilState(Schema):
    key = fields.String(required=True)
    group = fields.String(allow_none=True, load_default=None)
    composite_groups = fields.List(fields.String(), load_default=list)
    jaargroep = fields.String(allow_none=True, load_default=None)


class StaffState(Schema):
    key = fields.String(required=True)
    groups = fields.List(fields.String(), load_default=list)
    roles = fields.List(fields.String(), load_default=list)


def _changes(state_schema: type[Schema]) -> fields.Nested:
    class Changes(Schema):
        added = fields.List(fields.Nested(state_schema), load_default=list)
        changed = fields.List(fields.Nested(state_schema), load_default=list)
        removed = fields.List(fields.String(), load_default=list)

    Changes.__name__ = f"{state_schema.__name__}Changes"
    return fields.Nested(Changes, load_default=lambda: {"added": [], "changed": [], "removed": []})


class RosterUpdated(Schema):
    """One sync of one school: what was added, changed and removed, by key.

    `sequence` grows by one per applied sync of the school; consumers use it to ignore
    a state older than the one they hold (events may arrive out of order).
    Added/changed entries carry the state consumers need (no names, no birth data).
    """
    sequence = fields.Integer(required=True, validate=validate.Range(min=1))
    groups = _changes(GroupState)
    pupils = _changes(PupilState)
    staff = _changes(StaffState)


# --- license.coupled / license.decoupled ------------------------------------------------

DECOUPLE_REASONS = ("by_user", "group_removed", "pupil_left", "licence_ended")


class LicenceCoupling(Schema):
    coupling_id = fields.String(required=True)
    licence_id = fields.String(required=True)
    contract_number = fields.String(required=True)
    method = fields.String(allow_none=True, load_default=None)
    product_type = fields.String(allow_none=True, load_default=None)
    target_kind = fields.String(required=True, validate=validate.OneOf(["group", "pupil"]))
    target_key = fields.String(required=True)
    by = fields.String(required=True)
    reason = fields.String(required=True)


class LicenseCoupled(LicenceCoupling):
    reason = fields.String(load_default="by_user", validate=validate.OneOf(["by_user"]))


class LicenseDecoupled(LicenceCoupling):
    reason = fields.String(required=True, validate=validate.OneOf(DECOUPLE_REASONS))


# --- result.recorded (from the learning app) / results.export_* (from results) -----------

RESULT_KINDS = ("practice", "test")
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(max_length: int) -> list:
    """1..max_length characters that XML 1.0 can carry: no control characters (a tab, newline or
    carriage return is fine), no lone surrogates. One such character in one result would make every
    UWLR message of its school unbuildable, so it is refused at the door, naming the field."""
    def no_control_characters(value: str) -> None:
        found = _NOT_XML.search(value)
        if found:
            raise ValidationError(f"contains a character XML cannot carry (U+{ord(found.group()):04X} at "
                                  f"position {found.start() + 1})")
    return [validate.Length(min=1, max=max_length), no_control_characters]


class ResultRecorded(Schema):
    """One result of one pupil, as the learning app reports it (published on the exchange
    `learning-app.events`; the same fields go to the results RPC `record_result`).

    Only `kind: practice` results are ever exported to a school's LVS; test results are dropped
    on arrival. Lengths and the score range are UWLR 2.2's (`tpKey`, `tpString128`,
    non-negative integer score) and strings hold only characters XML can carry, so an accepted
    result always fits a valid message.
    `result_key` is unique per school: a second result with the same key is a duplicate.
    """
    result_key = fields.String(required=True, validate=xml_text(256))
    pupil_key = fields.String(required=True, validate=xml_text(256))
    eckid = fields.String(allow_none=True, load_default=None, validate=xml_text(256))
    method = fields.String(required=True, validate=xml_text(256))
    exercise_code = fields.String(required=True, validate=xml_text(256))
    exercise_name = fields.String(required=True, validate=xml_text(128))
    kind = fields.String(required=True, validate=validate.OneOf(RESULT_KINDS))
    score = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=2_147_483_647))
    taken_on = fields.Date(required=True)


EXPORT_FAILURES = ("key_rejected", "lvs_fault", "network", "timeout", "http_error", "bad_answer",
                   "invalid_message", "key_unreadable")


class ExportBatch(Schema):
    batch_id = fields.String(required=True)
    coupling_id = fields.String(required=True)
    lvs = fields.String(required=True)
    result_count = fields.Integer(required=True, validate=validate.Range(min=0))


class ExportSucceeded(ExportBatch):
    """A batch of practice results was accepted by the school's LVS (`leerresultaten_bevestiging`)."""


class ExportFailed(ExportBatch):
    """A batch could not be delivered. `status` is the coupling's status afterwards:
    `key_rejected` (stops until the key is changed) or `retrying` (at `next_attempt_at`).
    The results stay queued; nothing is lost."""
    failure = fields.String(required=True, validate=validate.OneOf(EXPORT_FAILURES))
    error = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(["key_rejected", "retrying"]))
    attempts = fields.Integer(required=True, validate=validate.Range(min=1))
    next_attempt_at = fields.AwareDateTime(allow_none=True, load_default=None, default_timezone=dt.UTC)


@dataclass(frozen=True)
class Contract:
    event_type: str
    source: str  # the service that emits it (its nameko events exchange)
    schema_version: int
    payload: type[Schema]


CONTRACTS: dict[str, Contract] = {
    c.event_type: c
    for c in (
        Contract("roster.updated", "roster", 1, RosterUpdated),
        Contract("license.coupled", "licensing", 1, LicenseCoupled),
        Contract("license.decoupled", "licensing", 1, LicenseDecoupled),
        Contract("result.recorded", "learning-app", 1, ResultRecorded),
        Contract("results.export_succeeded", "results", 1, ExportSucceeded),
        Contract("results.export_failed", "results", 1, ExportFailed),
    )
}


def register(contract: Contract) -> None:
    """Add a contract (used by modules that define their events next to this one)."""
    CONTRACTS[contract.event_type] = contract


def contract_for(event_type: str) -> Contract:
    try:
        return CONTRACTS[event_type]
    except KeyError:
        raise ValidationError({"event_type": [f"unknown event type {event_type!r}"]}) from None


_SCHOOL_RE = re.compile(SCHOOL_PATTERN)
_ENVELOPE = Envelope()
_payload_schemas: dict[str, Schema] = {}


def _payload_schema(contract: Contract) -> Schema:
    # marshmallow schema instances are reusable; building one per event cost ~0.7 ms
    schema = _payload_schemas.get(contract.event_type)
    if schema is None:
        schema = _payload_schemas[contract.event_type] = contract.payload()
    return schema


def make_event(event_type: str, school: str, payload: dict, *, occurred_at: dt.datetime | None = None) -> dict:
    """A JSON-safe envelope; the payload is validated against its contract first."""
    contract = contract_for(event_type)
    schema = _payload_schema(contract)
    loaded_payload = schema.load(payload)
    if not isinstance(school, str) or not _SCHOOL_RE.match(school):
        raise ValidationError({"school": [SCHOOL_ID.error]})
    occurred_at = occurred_at or dt.datetime.now(dt.UTC)
    if occurred_at.tzinfo is None:
        raise ValidationError({"occurred_at": ["must be timezone-aware"]})
    return {
        "event_id": str(uuid.uuid4()),
        "event_type": event_type,
        "schema_version": contract.schema_version,
        "occurred_at": occurred_at.isoformat(),
        "school": school,
        "payload": schema.dump(loaded_payload),
    }


def load_event(data: dict) -> dict:
    """Validate envelope and payload; returns the envelope with `event_id` as str."""
    envelope = _ENVELOPE.load(data)
    contract = contract_for(envelope["event_type"])
    if envelope["schema_version"] != contract.schema_version:
        raise ValidationError({"schema_version": [f"unsupported version {envelope['schema_version']}"]})
    envelope["payload"] = _payload_schema(contract).load(envelope["payload"])
    envelope["event_id"] = str(envelope["event_id"])
    return envelope
