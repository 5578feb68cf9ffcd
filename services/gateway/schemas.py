"""Marshmallow contracts of the gateway's HTTP API: every request body, query and response.

The OpenAPI document (/api/v1/openapi.json) is generated from these same classes. Responses are
dumped through them, so a field a backend adds does not leak out unless it is listed here.
"""
from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

SCHOOL_ID = validate.Regexp(r"^\d{2}[A-Z]{2}\d{2}$", error="BRIN + dependancecode, e.g. 99ZZ00")
KEY = validate.Length(min=1, max=64)


class StrictSchema(Schema):
    """Unknown fields in a request are an error (a typo must not be silently ignored)."""

    class Meta:
        unknown = RAISE


# --- errors and pages -------------------------------------------------------------------------

class ErrorBody(Schema):
    code = fields.String(required=True)
    message = fields.String(required=True)
    fields = fields.Dict(keys=fields.String(), values=fields.Raw(), required=True)


class Error(Schema):
    error = fields.Nested(ErrorBody, required=True)


class PageMeta(Schema):
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    total = fields.Integer(required=True)
    pages = fields.Integer(required=True)


class PageQuery(StrictSchema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


def page_of(item_schema: type[Schema], name: str) -> type[Schema]:
    return type(name, (Schema,), {"items": fields.List(fields.Nested(item_schema), required=True),
                                  "page": fields.Nested(PageMeta, required=True)})


# --- accounts and sessions --------------------------------------------------------------------

class LoginBody(StrictSchema):
    email = fields.Email(required=True, validate=validate.Length(max=256))
    password = fields.String(required=True, validate=validate.Length(min=1, max=200))


class Membership(Schema):
    school_id = fields.String(required=True)
    school_name = fields.String(allow_none=True)
    roles = fields.List(fields.String())
    is_ict_coordinator = fields.Boolean(required=True)


class SessionInfo(Schema):
    email = fields.String(required=True)
    csrf_token = fields.String(required=True, metadata={"description": "send as X-CSRF-Token on every "
                                                                       "POST, PUT, PATCH and DELETE"})
    school_id = fields.String(allow_none=True, required=True, metadata={"description": "the chosen school"})
    is_ict_coordinator = fields.Boolean(required=True, metadata={"description": "in the chosen school"})
    schools = fields.List(fields.Nested(Membership), required=True)


class ChooseSchoolBody(StrictSchema):
    school_id = fields.String(required=True, validate=SCHOOL_ID)


class PasswordResetBody(StrictSchema):
    email = fields.Email(required=True, validate=validate.Length(max=256))


class Accepted(Schema):
    message = fields.String(required=True)


class SetPasswordBody(StrictSchema):
    token = fields.String(required=True, validate=validate.Length(min=10, max=100))
    password = fields.String(required=True, validate=validate.Length(min=1, max=200))


# --- roster (Schoolgegevens) ------------------------------------------------------------------

class School(Schema):
    id = fields.String(required=True)
    brin = fields.String()
    dependance = fields.String()
    name = fields.String(allow_none=True)
    schooljaar = fields.String(allow_none=True)
    last_sync_at = fields.String(allow_none=True, metadata={"description": "Laatste Basispoort synchronisatie "
                                                                         "(ISO-8601)"})


class Group(Schema):
    key = fields.String(required=True)
    name = fields.String(required=True)
    jaargroep = fields.String(allow_none=True)
    composite = fields.Boolean()


class Person(Schema):
    key = fields.String(required=True)
    first_name = fields.String(allow_none=True)
    prefix = fields.String(allow_none=True)
    last_name = fields.String(allow_none=True)
    display_name = fields.String()


class Staff(Person):
    email = fields.String(allow_none=True)
    roles = fields.List(fields.String())
    groups = fields.List(fields.String())


class Pupil(Person):
    jaargroep = fields.String(allow_none=True)
    group_key = fields.String(allow_none=True)
    composite_groups = fields.List(fields.String())


class GroupDetails(Group):
    teachers = fields.List(fields.Nested(Staff), required=True)
    pupils = fields.List(fields.Nested(Pupil), required=True)


GroupPage = page_of(Group, "GroupPage")
StaffPage = page_of(Staff, "StaffPage")
PupilPage = page_of(Pupil, "PupilPage")


class StaffQuery(PageQuery):
    ict_only = fields.Boolean(load_default=False)


class PupilQuery(PageQuery):
    group_key = fields.String(load_default=None, validate=KEY)
    search = fields.String(load_default=None, validate=validate.Length(min=1, max=100))


# --- licensing --------------------------------------------------------------------------------

class Licence(Schema):
    id = fields.String(required=True)
    contract_number = fields.String(required=True)
    title = fields.String(required=True)
    isbn = fields.String(allow_none=True)
    article_number = fields.String(allow_none=True)
    method = fields.String(allow_none=True)
    product_type = fields.String()
    jaargroep = fields.String(allow_none=True)
    start_date = fields.String(metadata={"format": "date"})
    end_date = fields.String(metadata={"format": "date"})
    licence_type = fields.String()
    kind = fields.String(validate=validate.OneOf(["group", "pupil"]))
    seats = fields.Integer(allow_none=True)
    seats_used = fields.Integer()
    seats_available = fields.Integer(allow_none=True)
    active = fields.Boolean()


LicencePage = page_of(Licence, "LicencePage")


class LicenceQuery(PageQuery):
    kind = fields.String(load_default=None, validate=validate.OneOf(["group", "pupil"]))
    active_only = fields.Boolean(load_default=False)


class RightsState(Schema):
    state = fields.String(required=True, validate=validate.OneOf(
        ["pending", "granted", "revoked", "failed", "superseded"]),
        metadata={"description": "the newest push of this coupling to Basispoort's hosted licence API"})
    attempts = fields.Integer()
    last_error = fields.String(allow_none=True)
    next_attempt_at = fields.String(allow_none=True)
    done_at = fields.String(allow_none=True)


class Coupling(Schema):
    id = fields.String(required=True)
    target_kind = fields.String(required=True, validate=validate.OneOf(["group", "pupil"]))
    target_key = fields.String(required=True)
    target_name = fields.String(allow_none=True, metadata={"description": "group or pupil name from the roster"})
    group_key = fields.String(allow_none=True, metadata={"description": "a coupled pupil's own group"})
    coupled_at = fields.String(allow_none=True)
    basispoort = fields.Nested(RightsState, allow_none=True,
                               metadata={"description": "null when no right was pushed (or pushing is off)"})


class LicenceDetails(Licence):
    couplings = fields.List(fields.Nested(Coupling), required=True)


class CoupleGroupBody(StrictSchema):
    group_key = fields.String(required=True, validate=KEY)


class CouplePupilBody(StrictSchema):
    pupil_key = fields.String(required=True, validate=KEY)


class GroupRef(Schema):
    key = fields.String()
    name = fields.String()


class StartLicence(Schema):
    licence_id = fields.String()
    contract_number = fields.String()
    title = fields.String()
    licence_type = fields.String(allow_none=True)
    end_date = fields.String(allow_none=True)
    groups = fields.List(fields.Nested(GroupRef))


class StartProductType(Schema):
    product_type = fields.String()
    licences = fields.List(fields.Nested(StartLicence))


class StartMethod(Schema):
    method = fields.String(allow_none=True)
    product_types = fields.List(fields.Nested(StartProductType))


class StartPage(Schema):
    methods = fields.List(fields.Nested(StartMethod), required=True)


# --- results (Resultaatkoppelingen) -----------------------------------------------------------

class Consent(Schema):
    given = fields.Boolean(required=True)
    by = fields.String(allow_none=True)
    at = fields.String(allow_none=True)


class ConsentBody(StrictSchema):
    given = fields.Boolean(required=True)


class LvsOption(Schema):
    lvs = fields.String(required=True)
    lvs_name = fields.String(required=True)
    endpoint_url_required = fields.Boolean()


class LvsCoupling(Schema):
    id = fields.String(required=True)
    lvs = fields.String(required=True)
    lvs_name = fields.String()
    endpoint_url = fields.String(allow_none=True)
    key_hint = fields.String(metadata={"description": "the last characters of the key only"})
    status = fields.String(metadata={"description": "active | retrying | key_rejected | no_consent"})
    status_text = fields.String(metadata={"description": "the status in Dutch, as the UI shows it"})
    last_export_at = fields.String(allow_none=True)
    last_export_count = fields.Integer(allow_none=True)
    last_error = fields.String(allow_none=True)


class LvsCouplingList(Schema):
    items = fields.List(fields.Nested(LvsCoupling), required=True)


class LvsOptionList(Schema):
    items = fields.List(fields.Nested(LvsOption), required=True)


class AddLvsCouplingBody(StrictSchema):
    lvs = fields.String(required=True, validate=validate.Length(min=1, max=32))
    endpoint_url = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))
    authorisation_key = fields.String(required=True, validate=validate.Length(min=1, max=64))


class LvsKeyBody(StrictSchema):
    authorisation_key = fields.String(required=True, validate=validate.Length(min=1, max=64))


# --- pupil logins (seed §4; the roster service owns them) ------------------------------------------

class PupilLogin(Schema):
    key = fields.String(required=True)
    display_name = fields.String()
    login_method = fields.String(validate=validate.OneOf(("pincode", "pictures")))
    pincode = fields.String(metadata={"description": "4 digits"})
    pictures = fields.List(fields.String(), metadata={"description": "names from /api/v1/picture-set, in order"})
    home_emails = fields.List(fields.String(), metadata={"description": "Thuislogin addresses (at most two)"})


class GroupLogins(Schema):
    group_key = fields.String(required=True)
    group_name = fields.String()
    composite = fields.Boolean()
    login_method = fields.String(allow_none=True, metadata={"description": "null for a composite group"})
    pupils = fields.List(fields.Nested(PupilLogin), required=True)


class LoginMethodBody(StrictSchema):
    method = fields.String(required=True, validate=validate.OneOf(("pincode", "pictures")))


class PincodeBody(StrictSchema):
    pincode = fields.String(required=True, validate=validate.Length(max=16))


class PicturesBody(StrictSchema):
    pictures = fields.List(fields.String(validate=validate.Length(max=32)), required=True,
                           validate=validate.Length(max=16))


class HomeEmailBody(StrictSchema):
    email = fields.String(required=True, validate=validate.Length(min=1, max=254))


class Picture(Schema):
    name = fields.String(required=True)
    label = fields.String(required=True)
    svg = fields.String(required=True)


class PictureSet(Schema):
    length = fields.Integer(required=True)
    pictures = fields.List(fields.Nested(Picture), required=True)
