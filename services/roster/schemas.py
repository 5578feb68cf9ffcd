"""Marshmallow contracts of the roster service: its RPC answers, and the Basispoort JSON it reads."""
from marshmallow import EXCLUDE, Schema, fields, validate


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
    last_sync_at = fields.AwareDateTime(allow_none=True)  # "Laatste Basispoort synchronisatie"
    counts = fields.Dict(keys=fields.String(), values=fields.Integer())  # filled in by the query
    pending_syncs = fields.Integer()


class GroupSchema(Schema):
    key = fields.String()
    name = fields.String()
    jaargroep = fields.String(allow_none=True)
    composite = fields.Boolean()
    pupil_count = fields.Integer()  # in the groups list, filled in by the query
    teacher_count = fields.Integer()


class PupilSchema(Schema):
    key = fields.String()
    first_name = fields.String(allow_none=True)
    prefix = fields.String(allow_none=True)
    last_name = fields.String()
    display_name = fields.Method("_display")
    jaargroep = fields.String(allow_none=True)
    group_key = fields.String(allow_none=True)
    group_name = fields.String(allow_none=True, dump_default=None)  # filled in by the query
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
    group_names = fields.List(fields.String(), dump_default=list)  # filled in by the query, same order
    is_ict_coordinator = fields.Boolean(attribute="ict_coordinator")

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


class SyncRunSchema(Schema):
    """A sync held by the mass-deletion guard (or any other sync run), as the RPCs answer it."""
    sync_id = fields.String(attribute="id")
    school_id = fields.String()
    source = fields.String()
    status = fields.String()
    created_at = fields.AwareDateTime()
    applied_at = fields.AwareDateTime(allow_none=True)
    summary = fields.Dict()
    error = fields.String(allow_none=True)


# --- Basispoort REST API v2, institutions ("Instellingen V2"): what koppel reads of its answers ---------
# Shapes as documented by the public client LeoniePhiline/basispoort-sync-client (src/institutions/model.rs).
# Unknown fields (addresses, bestuurscode, ...) are dropped on load: koppel stores only what it uses.

class BasispoortMeta(Schema):
    class Meta:
        unknown = EXCLUDE

    mutationTimestamp = fields.String(load_default=None)
    generationTimestamp = fields.String(load_default=None)


class BasispoortDetails(Schema):
    """GET /rest/v2/instellingen/{id}/details"""
    class Meta:
        unknown = EXCLUDE

    naam = fields.String(allow_none=True, load_default=None)
    brincode = fields.String(required=True, validate=validate.Regexp(r"^\d{2}[A-Z]{2}$",
                                                                      error="must be a BRIN like 99ZZ"))
    dependancecode = fields.String(allow_none=True, load_default=None,
                                   validate=validate.Regexp(r"^\d{2}$", error="must be two digits"))
    actief = fields.Boolean(load_default=True)
    gefuseerdNaar = fields.Integer(allow_none=True, load_default=None)


class BasispoortGroup(Schema):
    class Meta:
        unknown = EXCLUDE

    lasKey = fields.String(required=True, validate=validate.Length(min=1, max=64))
    naam = fields.String(allow_none=True, load_default=None)
    jaargroep = fields.String(allow_none=True, load_default=None)
    omschrijving = fields.String(allow_none=True, load_default=None)


class BasispoortPerson(Schema):
    class Meta:
        unknown = EXCLUDE

    achternaam = fields.String(allow_none=True, load_default=None)
    voornaam = fields.String(allow_none=True, load_default=None)
    voorvoegsel = fields.String(allow_none=True, load_default=None)


class BasispoortPupil(Schema):
    class Meta:
        unknown = EXCLUDE

    id = fields.Integer(required=True)
    eckid = fields.String(allow_none=True, load_default=None)
    lasKey = fields.String(allow_none=True, load_default=None, validate=validate.Length(min=1, max=64))
    persoonsgegevens = fields.Nested(BasispoortPerson, required=True)
    jaargroep = fields.String(allow_none=True, load_default=None)
    groep = fields.String(allow_none=True, load_default=None)
    subgroepen = fields.List(fields.String(), load_default=list)


class BasispoortStaffMember(Schema):
    class Meta:
        unknown = EXCLUDE

    id = fields.Integer(required=True)
    eckid = fields.String(allow_none=True, load_default=None)
    lasKey = fields.String(allow_none=True, load_default=None, validate=validate.Length(min=1, max=64))
    persoonsgegevens = fields.Nested(BasispoortPerson, required=True)
    emailadres = fields.String(allow_none=True, load_default=None)
    einddatum = fields.Date(allow_none=True, load_default=None)
    rollen = fields.List(fields.String(), load_default=list)
    groepen = fields.List(fields.String(), load_default=list)
    subgroepen = fields.List(fields.String(), load_default=list)


class BasispoortInstitution(Schema):
    """GET /rest/v2/instellingen/{id}: groups, pupils and staff in one answer."""
    class Meta:
        unknown = EXCLUDE

    groepen = fields.List(fields.Nested(BasispoortGroup), required=True)
    subgroepen = fields.List(fields.Nested(BasispoortGroup), load_default=list)
    leerlingen = fields.List(fields.Nested(BasispoortPupil), required=True)
    medewerkers = fields.List(fields.Nested(BasispoortStaffMember), required=True)
    actief = fields.Boolean(load_default=True)
    gefuseerdNaar = fields.Integer(allow_none=True, load_default=None)
    metaResult = fields.Nested(BasispoortMeta, load_default=None)
