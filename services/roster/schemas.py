"""Marshmallow contracts of the roster service's RPC answers."""
from marshmallow import Schema, fields


class Page(Schema):
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()
    pages = fields.Integer()


class SchoolSchema(Schema):
    id = fields.String()
    brin = fields.String()
    dependance = fields.String()
    name = fields.String()
    schooljaar = fields.String(allow_none=True)
    last_sync_at = fields.AwareDateTime(allow_none=True)


class GroupSchema(Schema):
    key = fields.String()
    name = fields.String()
    jaargroep = fields.String(allow_none=True)
    composite = fields.Boolean()


class PupilSchema(Schema):
    key = fields.String()
    first_name = fields.String(allow_none=True)
    prefix = fields.String(allow_none=True)
    last_name = fields.String()
    display_name = fields.Method("_display")
    jaargroep = fields.String(allow_none=True)
    group_key = fields.String(allow_none=True)
    composite_groups = fields.List(fields.String())

    def _display(self, obj):
        return " ".join(x for x in (obj.first_name, obj.prefix, obj.last_name) if x)


class StaffSchema(Schema):
    key = fields.String()
    first_name = fields.String(allow_none=True)
    prefix = fields.String(allow_none=True)
    last_name = fields.String()
    display_name = fields.Method("_display")
    email = fields.String(allow_none=True)
    roles = fields.List(fields.String())
    groups = fields.List(fields.String())

    def _display(self, obj):
        return " ".join(x for x in (obj.first_name, obj.prefix, obj.last_name) if x)


class GroupDetailsSchema(GroupSchema):
    teachers = fields.List(fields.Nested(StaffSchema))
    pupils = fields.List(fields.Nested(PupilSchema))


class MembershipSchema(Schema):
    school_id = fields.String()
    school_name = fields.String()
    staff_key = fields.String()
    roles = fields.List(fields.String())
    is_ict_coordinator = fields.Boolean()
