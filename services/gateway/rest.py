"""The JSON API under /api/v1 (entrypoints only; mixed into GatewayService).

Each route declares its authorization level; `endpoint` checks it before the handler runs.
School-scoped routes take the school from the URL and only answer for the session's chosen school.
"""
from __future__ import annotations

import base64

from werkzeug.wrappers import Response

from services.gateway import accounts, queries, signin, websessions
from services.gateway import schemas as s
from services.gateway.api import Dumped, endpoint, instance
from services.gateway.auth import SESSION_COOKIE, client_address, session_cookie_args
from services.gateway.errors import json_response
from services.gateway.models import WebSession
from shared.errors import NotFound

SCHOOL = "/api/v1/schools/<string:school_id>"


def session_info(ws: WebSession) -> dict:
    chosen = websessions.membership(ws, ws.school_id)
    return {"email": ws.email, "csrf_token": ws.csrf_token, "school_id": ws.school_id,
            "is_ict_coordinator": bool(chosen and chosen["is_ict_coordinator"]), "schools": ws.memberships}


class RestApi:
    # --- session --------------------------------------------------------------------------------

    @endpoint("POST", "/api/v1/session", summary="Log in (Inloggen); sets the HttpOnly session cookie",
              tag="session", level=None, body=s.LoginBody, response=s.SessionInfo, status=201, errors=(401, 429))
    def login(self, request, caller, body):
        token, ws = signin.log_in(self.session, self.roster, body["email"], body["password"], client_address(request))
        response = json_response(instance(s.SessionInfo).dump(session_info(ws)), 201)
        response.set_cookie(**session_cookie_args(token))
        return response

    @endpoint("GET", "/api/v1/session", summary="Who is logged in, their schools and the chosen one",
              tag="session", level="session", response=s.SessionInfo)
    def whoami(self, request, caller):
        return session_info(caller.web_session)

    @endpoint("DELETE", "/api/v1/session", summary="Log out (Uitloggen)", tag="session", level="session",
              status=204)
    def logout(self, request, caller):
        with self.session.begin():
            websessions.close(self.session, caller.token)
        response = json_response(None, 204)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    @endpoint("PUT", "/api/v1/session/school", summary="Selecteer school: choose one of the account's schools",
              tag="session", level="session", body=s.ChooseSchoolBody, response=s.SessionInfo, errors=(404,))
    def choose_school(self, request, caller, body):
        with self.session.begin():
            websessions.choose_school(caller.web_session, body["school_id"])
        return session_info(caller.web_session)

    @endpoint("POST", "/api/v1/password-reset", summary="Gebruikersnaam of wachtwoord vergeten: mail a reset link",
              tag="session", level=None, body=s.PasswordResetBody, response=s.Accepted, status=202, errors=(429,))
    def password_reset(self, request, caller, body):
        signin.request_reset(self.session, self.roster, body["email"], client_address(request))
        return {"message": "Als dit e-mailadres bij ons bekend is, ontvang je een e-mail met een link."}

    @endpoint("POST", "/api/v1/password", summary="Set a password with an invitation or reset link's token",
              tag="session", level=None, body=s.SetPasswordBody, status=204, errors=(404,))
    def set_password(self, request, caller, body):
        with self.session.begin():
            account = accounts.use_link(self.session, body["token"], body["password"])
            websessions.close_all(self.session, account.id)

    # --- start page (teachers and coordinators) ------------------------------------------------

    @endpoint("GET", f"{SCHOOL}/start", summary="The start page: per method, the licences of my groups by "
              "product type", tag="start", level="school", response=s.StartPage)
    def start_page(self, request, caller, school_id):
        return {"methods": self.licensing.teacher_start_page(school_id, caller.staff_key)}

    # --- Schoolgegevens ---------------------------------------------------------------------------

    @endpoint("GET", SCHOOL, summary="Gegevens: the school as the roster knows it", tag="schoolgegevens",
              level="beheer", response=s.School)
    def school(self, request, caller, school_id):
        return self.roster.school(school_id)

    @endpoint("GET", f"{SCHOOL}/groups", summary="Groepen", tag="schoolgegevens", level="beheer",
              query=s.PageQuery, response=s.GroupPage)
    def groups(self, request, caller, school_id, query):
        return self.roster.groups(school_id, query["page"], query["per_page"])

    @endpoint("GET", f"{SCHOOL}/groups/<string:group_key>", summary="Details of a group: teachers and pupils",
              tag="schoolgegevens", level="beheer", response=s.GroupDetails)
    def group_details(self, request, caller, school_id, group_key):
        return self.roster.group_details(school_id, group_key)

    @endpoint("GET", f"{SCHOOL}/staff", summary="Leerkrachten (ict_only: ICT-coördinatoren)", tag="schoolgegevens",
              level="beheer", query=s.StaffQuery, response=s.StaffPage)
    def staff(self, request, caller, school_id, query):
        return self.roster.staff(school_id, query["page"], query["per_page"], query["ict_only"])

    @endpoint("POST", f"{SCHOOL}/staff/<string:staff_key>/invitation", summary="Mail a staff member an "
              "invitation to set a password", tag="schoolgegevens", level="beheer", response=s.Accepted,
              status=202)
    def invite_staff(self, request, caller, school_id, staff_key):
        signin.invite_staff(self.session, self.roster, school_id, staff_key)
        return {"message": "De uitnodiging is verstuurd."}

    @endpoint("GET", f"{SCHOOL}/pupils", summary="Leerlingen (filter by group, search by name)",
              tag="schoolgegevens", level="beheer", query=s.PupilQuery, response=s.PupilPage)
    def pupils(self, request, caller, school_id, query):
        return self.roster.pupils(school_id, query["page"], query["per_page"], query["group_key"], query["search"])

    # --- Licenties en koppelingen -----------------------------------------------------------------

    @endpoint("GET", f"{SCHOOL}/licences", summary="Licenties per groep / per kind", tag="licenties",
              level="beheer", query=s.LicenceQuery, response=s.LicencePage)
    def licences(self, request, caller, school_id, query):
        items = queries.licences(self.licensing, school_id, query["kind"], query["active_only"],
                                 dump=lambda items: instance(s.Licence).dump(items, many=True))
        return Dumped(queries.page_list(items, query["page"], query["per_page"]))

    @endpoint("GET", f"{SCHOOL}/licences/<string:licence_id>", summary="A licence with its couplings",
              tag="licenties", level="beheer", response=s.LicenceDetails)
    def licence(self, request, caller, school_id, licence_id):
        return queries.licence_details(self.licensing, self.roster, school_id, licence_id)

    @endpoint("POST", f"{SCHOOL}/licences/<string:licence_id>/groups", summary="Koppel licentie aan groep",
              tag="licenties", level="beheer", body=s.CoupleGroupBody, response=s.Coupling, status=201,
              errors=(409,))
    def couple_group(self, request, caller, school_id, licence_id, body):
        coupling = self.licensing.couple_group(school_id, licence_id, body["group_key"], caller.by)
        queries.licences_changed(school_id)
        return coupling

    @endpoint("POST", f"{SCHOOL}/licences/<string:licence_id>/pupils", summary="Koppel leerling (a seat of a "
              "per-child licence); 409 when no seats are left", tag="licenties", level="beheer",
              body=s.CouplePupilBody, response=s.Coupling, status=201, errors=(409,))
    def couple_pupil(self, request, caller, school_id, licence_id, body):
        coupling = self.licensing.couple_pupil(school_id, licence_id, body["pupil_key"], caller.by)
        queries.licences_changed(school_id)
        return coupling

    @endpoint("DELETE", f"{SCHOOL}/licences/<string:licence_id>/couplings/<string:coupling_id>",
              summary="Ontkoppelen", tag="licenties", level="beheer", status=204)
    def decouple(self, request, caller, school_id, licence_id, coupling_id):
        self.licensing.decouple(school_id, licence_id, coupling_id, caller.by)
        queries.licences_changed(school_id)

    # --- Resultaatkoppelingen ---------------------------------------------------------------------

    @endpoint("GET", f"{SCHOOL}/consent", summary="Toestemming to send practice results", tag="resultaatkoppelingen",
              level="beheer", response=s.Consent)
    def consent(self, request, caller, school_id):
        return self.results.consent(school_id)

    @endpoint("PUT", f"{SCHOOL}/consent", summary="Give or withdraw toestemming", tag="resultaatkoppelingen",
              level="beheer", body=s.ConsentBody, response=s.Consent)
    def set_consent(self, request, caller, school_id, body):
        return self.results.set_consent(school_id, body["given"], caller.by)

    @endpoint("GET", "/api/v1/lvs-options", summary="The LVSs a school can couple to", tag="resultaatkoppelingen",
              level="session", response=s.LvsOptionList)
    def lvs_options(self, request, caller):
        return {"items": self.results.lvs_options()}

    @endpoint("GET", f"{SCHOOL}/lvs-couplings", summary="Resultaatkoppelingen with their status",
              tag="resultaatkoppelingen", level="beheer", response=s.LvsCouplingList)
    def lvs_couplings(self, request, caller, school_id):
        return {"items": queries.lvs_couplings(self.results, school_id)}

    @endpoint("POST", f"{SCHOOL}/lvs-couplings", summary="Koppeling toevoegen", tag="resultaatkoppelingen",
              level="beheer", body=s.AddLvsCouplingBody, response=s.LvsCoupling, status=201, errors=(409,))
    def add_lvs_coupling(self, request, caller, school_id, body):
        added = self.results.add_lvs_coupling(school_id, body, caller.by)
        return queries.with_status_text(added)

    @endpoint("PUT", f"{SCHOOL}/lvs-couplings/<string:coupling_id>/key", summary="Change the autorisatiesleutel",
              tag="resultaatkoppelingen", level="beheer", body=s.LvsKeyBody, response=s.LvsCoupling)
    def update_lvs_key(self, request, caller, school_id, coupling_id, body):
        changed = self.results.update_lvs_key(school_id, coupling_id, body["authorisation_key"], caller.by)
        return queries.with_status_text(changed)

    @endpoint("DELETE", f"{SCHOOL}/lvs-couplings/<string:coupling_id>", summary="Remove a resultaatkoppeling",
              tag="resultaatkoppelingen", level="beheer", status=204)
    def remove_lvs_coupling(self, request, caller, school_id, coupling_id):
        self.results.remove_lvs_coupling(school_id, coupling_id, caller.by)

    # --- Leerling-logins (seed §4) ------------------------------------------------------------------

    @endpoint("GET", "/api/v1/picture-set", summary="The fixed pictures a picture login is made of",
              tag="leerling-logins", level="session", response=s.PictureSet)
    def picture_set(self, request, caller):
        return self.roster.picture_set()

    @endpoint("GET", f"{SCHOOL}/groups/<string:group_key>/logins", summary="A group's pupils with their logins "
              "(pincode, pictures, Thuislogin addresses)", tag="leerling-logins", level="beheer",
              response=s.GroupLogins)
    def group_logins(self, request, caller, school_id, group_key):
        return self.roster.group_logins(school_id, group_key)

    @endpoint("PUT", f"{SCHOOL}/groups/<string:group_key>/login-method", summary="Wijzig login methode voor de "
              "groep", tag="leerling-logins", level="beheer", body=s.LoginMethodBody, response=s.GroupLogins)
    def set_group_login_method(self, request, caller, school_id, group_key, body):
        return self.roster.set_group_login_method(school_id, group_key, body["method"], caller.by)

    @endpoint("GET", f"{SCHOOL}/groups/<string:group_key>/login-sheet", summary="Printversie: the group's login "
              "cards as a PDF (application/pdf)", tag="leerling-logins", level="beheer",
              media_type="application/pdf")
    def login_sheet(self, request, caller, school_id, group_key):
        pdf = base64.b64decode(self.roster.login_sheet_pdf(school_id, group_key))
        return Response(pdf, mimetype="application/pdf", headers={"Cache-Control": "no-store",
                                                                   "X-Content-Type-Options": "nosniff"})

    @endpoint("GET", f"{SCHOOL}/pupils/<string:pupil_key>/login", summary="A pupil's login",
              tag="leerling-logins", level="beheer", response=s.PupilLogin)
    def pupil_login(self, request, caller, school_id, pupil_key):
        return self.roster.pupil_login(school_id, pupil_key)

    @endpoint("PUT", f"{SCHOOL}/pupils/<string:pupil_key>/pincode", summary="Change a pupil's pincode (4 digits)",
              tag="leerling-logins", level="beheer", body=s.PincodeBody, response=s.PupilLogin)
    def set_pincode(self, request, caller, school_id, pupil_key, body):
        return self.roster.set_pincode(school_id, pupil_key, body["pincode"], caller.by)

    @endpoint("PUT", f"{SCHOOL}/pupils/<string:pupil_key>/pictures", summary="Change a pupil's picture login",
              tag="leerling-logins", level="beheer", body=s.PicturesBody, response=s.PupilLogin)
    def set_pictures(self, request, caller, school_id, pupil_key, body):
        return self.roster.set_pictures(school_id, pupil_key, body["pictures"], caller.by)

    @endpoint("POST", f"{SCHOOL}/pupils/<string:pupil_key>/home-emails", summary="Thuislogin: add an address "
              "(at most two) and mail its activation link", tag="leerling-logins", level="beheer",
              body=s.HomeEmailBody, response=s.PupilLogin, status=201, errors=(409,))
    def add_home_email(self, request, caller, school_id, pupil_key, body):
        return self.roster.add_home_email(school_id, pupil_key, body["email"])

    @endpoint("DELETE", f"{SCHOOL}/pupils/<string:pupil_key>/home-emails/<int:position>", summary="Thuislogin: "
              "remove address 1 or 2", tag="leerling-logins", level="beheer", response=s.PupilLogin)
    def remove_home_email(self, request, caller, school_id, pupil_key, position):
        emails = self.roster.pupil_login(school_id, pupil_key)["home_emails"]
        if not 1 <= position <= len(emails):
            raise NotFound("no such home-login address", {"position": ["no such address"]})
        return self.roster.remove_home_email(school_id, pupil_key, emails[position - 1])
