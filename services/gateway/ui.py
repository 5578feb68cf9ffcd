"""The Dutch admin UI at / (entrypoints only; mixed into GatewayService): server-rendered Jinja2
pages and plain forms, the screens and words of the users' manual.

Every page declares its level like the JSON API does (services.gateway.auth); the school is always
the session's chosen one, so ids of another school are simply not found. Forms post, then redirect
with a message (success or a Dutch error) shown on the next page.
"""
from __future__ import annotations

import base64
import datetime as dt
import functools
import hmac
import logging
import re
import secrets
from pathlib import Path
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from nameko.web.handlers import HttpRequestHandler
from werkzeug.utils import redirect as _redirect
from werkzeug.wrappers import Response

from services.gateway import accounts, auth, dutch, queries, signin, websessions
from services.gateway.errors import ServiceUnavailable, Unauthorized, status_for
from services.gateway.webserver import KoppelWebServer
from shared.errors import KoppelError, NotFound

log = logging.getLogger(__name__)
HERE = Path(__file__).parent
STATIC = {"koppel.css": "text/css", "koppel.js": "text/javascript"}
FORM_COOKIE = "koppel_form"  # double-submit CSRF token for the forms shown before login
SCHOOL_TABS = {"gegevens": "Gegevens", "groepen": "Groepen", "ict-coordinatoren": "ICT-coördinatoren",
               "leerkrachten": "Leerkrachten", "leerlingen": "Leerlingen"}
PER_PAGE = 50
_PICTURES: dict | None = None  # the roster's fixed picture set, fetched once per process
MONTHS = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober",
          "november", "december")


def _zone():
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo("Europe/Amsterdam")
    except Exception:  # noqa: BLE001 - no tz database: show UTC rather than fail
        return dt.UTC


TZ = _zone()


def datum(value) -> str:
    """2017-05-15 -> 15-05-2017, as the manual's tables show dates."""
    if not value:
        return ""
    day = dt.date.fromisoformat(str(value)[:10])
    return day.strftime("%d-%m-%Y")


def tijdstip(value) -> str:
    """An ISO timestamp -> "28 augustus 2017, 11:33" (Dutch time)."""
    if not value:
        return "nog niet"
    moment = dt.datetime.fromisoformat(str(value)).astimezone(TZ)
    return f"{moment.day} {MONTHS[moment.month - 1]} {moment.year}, {moment:%H:%M}"


ENV = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]),
                  trim_blocks=True, lstrip_blocks=True)
def lookup(keys, names: dict) -> list[str]:
    """Keys -> their names (the key itself when unknown)."""
    return [names.get(k, k) for k in keys or []]


ENV.filters.update(datum=datum, tijdstip=tijdstip, lookup=lookup)
ENV.globals.update(LVS_STATUS=dutch.LVS_STATUS, RIGHTS_STATE=dutch.RIGHTS_STATE, ROLE=dutch.ROLE,
                   SCHOOL_TABS=SCHOOL_TABS)


def html(body: str, status: int = 200) -> Response:
    return Response(body, status=status, mimetype="text/html", headers=SECURITY_HEADERS)


SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin",
                    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; form-action 'self'",
                    "Cache-Control": "no-store"}


def redirect(location: str) -> Response:
    return _redirect(location, code=303)


def error_page(exc: Exception) -> Response:
    """The Dutch error page, with the status of the one table in errors.py."""
    status = status_for(exc)
    if status == 500:
        log.error("unexpected error in admin UI", exc_info=exc)
    return html(ENV.get_template("error.html").render(status=status, message=dutch.message(exc, status),
                                                      user=None), status)


class HtmlHttp(HttpRequestHandler):
    """Pages: errors become the Dutch error page; not being logged in sends the browser to Inloggen."""
    server = KoppelWebServer()

    def response_from_result(self, result):
        return result if isinstance(result, Response) else html(result)

    def response_from_exception(self, exc):
        if isinstance(exc, Unauthorized):
            return redirect("/inloggen")
        return error_page(exc)


def page(method: str, path: str, level: str | None = None):
    """A page at `level` (see auth): not logged in -> Inloggen, no school chosen -> Selecteer school."""
    def decorate(fn):
        @functools.wraps(fn)
        def handler(self, request, **path_args):
            caller = None
            if level:
                try:
                    caller = auth.authorize(self.session, self.roster, request, level)
                except NotFound:
                    return redirect("/school")
            return fn(self, request, caller, **path_args)

        return HtmlHttp.decorator(method, path)(handler)

    return decorate


def form_token(request) -> tuple[str, bool]:
    """The pre-login form token from its cookie, or a new one (True: set the cookie)."""
    existing = request.cookies.get(FORM_COOKIE)
    return (existing, False) if existing else (secrets.token_urlsafe(24), True)


def form_token_ok(request) -> bool:
    sent, cookie = request.form.get("csrf_token", ""), request.cookies.get(FORM_COOKIE, "")
    return bool(cookie) and hmac.compare_digest(sent.encode(), cookie.encode())


class AdminUi:
    # --- helpers (not entrypoints) -----------------------------------------------------------

    def _render(self, caller, template: str, status: int = 200, **context) -> Response:
        flash = None
        if caller is not None and caller.web_session.flash:
            with self.session.begin():
                flash, caller.web_session.flash = caller.web_session.flash, None
        body = ENV.get_template(template).render(user=caller, flash=flash, **context)
        return html(body, status)

    def _anonymous_form(self, request, template: str, status: int = 200, **context) -> Response:
        token, new = form_token(request)
        response = html(ENV.get_template(template).render(user=None, csrf_token=token, **context), status)
        if new:
            response.set_cookie(FORM_COOKIE, token, httponly=True, samesite="Strict", path="/",
                                secure=auth.cookie_secure())
        return response

    def _flash(self, caller, kind: str, text: str) -> None:
        with self.session.begin():
            caller.web_session.flash = {"kind": kind, "text": text}

    def _act(self, caller, success: str, action, back: str) -> Response:
        """Run a form's action; flash success or the Dutch error, and go back (post/redirect/get)."""
        try:
            action()
            queries.licences_changed(caller.school_id)
        except KoppelError as exc:
            self.session.rollback()
            self._flash(caller, "error", dutch.message(exc, status_for(exc)))
        else:
            self._flash(caller, "success", success)
        return redirect(back)

    # --- static, help, home ------------------------------------------------------------------

    @page("GET", "/static/<string:name>")
    def static(self, request, caller, name):
        if name not in STATIC:
            raise NotFound("no such file")
        return Response((HERE / "static" / name).read_bytes(), mimetype=STATIC[name],
                        headers={"Cache-Control": "max-age=3600", "X-Content-Type-Options": "nosniff"})

    @page("GET", "/help")
    def help(self, request, caller):
        return self._render(auth.current(self.session, self.roster, request), "help.html")

    @page("GET", "/")
    def home(self, request, caller):
        caller = auth.current(self.session, self.roster, request)
        if caller is None:
            return redirect("/inloggen")
        return redirect("/start" if caller.membership else "/school")

    # --- Inloggen, wachtwoord, uitloggen -----------------------------------------------------------

    @page("GET", "/inloggen")
    def login_form(self, request, caller):
        if auth.current(self.session, self.roster, request) is not None:
            return redirect("/")
        notice = "Je bent uitgelogd." if request.args.get("uitgelogd") else None
        return self._anonymous_form(request, "login.html", notice=notice)

    @page("POST", "/inloggen")
    def login_page(self, request, caller):
        email = request.form.get("email", "")
        if not form_token_ok(request):
            return self._anonymous_form(request, "login.html", 403, email=email,
                                        error="Het formulier was verlopen. Probeer het opnieuw.")
        try:
            token, _ = signin.log_in(self.session, self.roster, email, request.form.get("password", ""),
                                     auth.client_address(request))
        except KoppelError as exc:
            self.session.rollback()
            status = status_for(exc)
            return self._anonymous_form(request, "login.html", status, email=email,
                                        error=dutch.message(exc, status))
        response = redirect("/")
        response.set_cookie(**auth.session_cookie_args(token))
        return response

    @page("POST", "/uitloggen", level="session")
    def logout_page(self, request, caller):
        with self.session.begin():
            websessions.close(self.session, caller.token)
        response = redirect("/inloggen?uitgelogd=1")
        response.delete_cookie(auth.SESSION_COOKIE, path="/")
        return response

    @page("GET", "/wachtwoord-vergeten")
    def forgot_form(self, request, caller):
        return self._anonymous_form(request, "forgot.html")

    @page("POST", "/wachtwoord-vergeten")
    def forgot(self, request, caller):
        email = request.form.get("email", "").strip()
        if not form_token_ok(request):
            return self._anonymous_form(request, "forgot.html", 403, email=email,
                                        error="Het formulier was verlopen. Probeer het opnieuw.")
        if "@" not in email:
            return self._anonymous_form(request, "forgot.html", 400, email=email,
                                        error="Vul je e-mailadres in.")
        try:
            signin.request_reset(self.session, self.roster, email, auth.client_address(request))
        except KoppelError as exc:
            self.session.rollback()
            status = status_for(exc)
            return self._anonymous_form(request, "forgot.html", status, email=email, error=dutch.message(exc, status))
        return self._anonymous_form(request, "forgot.html", sent=True)

    @page("GET", "/wachtwoord/<string:token>")
    def password_form(self, request, caller, token):
        try:
            link = accounts.valid_link(self.session, token)
        except NotFound:
            self.session.rollback()
            return self._anonymous_form(request, "set_password.html", 404, invalid=True)
        self.session.rollback()
        return self._anonymous_form(request, "set_password.html", token=token, purpose=link.purpose)

    @page("POST", "/wachtwoord/<string:token>")
    def set_password_page(self, request, caller, token):
        if not form_token_ok(request):
            return self._anonymous_form(request, "set_password.html", 403, token=token,
                                        error="Het formulier was verlopen. Probeer het opnieuw.")
        password = request.form.get("password", "")
        if password != request.form.get("password_again", ""):
            return self._anonymous_form(request, "set_password.html", 400, token=token,
                                        error="De twee wachtwoorden zijn niet gelijk.")
        try:
            with self.session.begin():
                account = accounts.use_link(self.session, token, password)
                websessions.close_all(self.session, account.id)
        except KoppelError as exc:
            status = status_for(exc)
            return self._anonymous_form(request, "set_password.html", status, token=token,
                                        invalid=status == 404, error=dutch.message(exc, status))
        return self._anonymous_form(request, "set_password.html", done=True)

    # --- Selecteer school, startpagina ------------------------------------------------------------

    @page("GET", "/school", level="session")
    def select_school_form(self, request, caller):
        return self._render(caller, "select_school.html", schools=caller.web_session.memberships)

    @page("POST", "/school", level="session")
    def select_school(self, request, caller):
        try:
            with self.session.begin():
                websessions.choose_school(caller.web_session, request.form.get("school_id", ""))
        except NotFound as exc:
            return self._render(caller, "select_school.html", 404, schools=caller.web_session.memberships,
                                error=dutch.message(exc, 404))
        return redirect("/start")

    @page("GET", "/start", level="school")
    def start(self, request, caller):
        try:
            methods, unavailable = self.licensing.teacher_start_page(caller.school_id, caller.staff_key), False
        except ServiceUnavailable:  # the rest of the page (Beheer, Selecteer school) still works
            methods, unavailable = [], True
        return self._render(caller, "start.html", methods=methods, unavailable=unavailable)

    # --- Beheer: Schoolgegevens ----------------------------------------------------------------

    @page("GET", "/beheer", level="beheer")
    def beheer(self, request, caller):
        return self._render(caller, "beheer.html", school=self.roster.school(caller.school_id))

    @page("GET", "/beheer/schoolgegevens", level="beheer")
    def school_data(self, request, caller):
        return redirect("/beheer/schoolgegevens/gegevens")

    @page("GET", "/beheer/schoolgegevens/<string:tab>", level="beheer")
    def school_tab(self, request, caller, tab):
        if tab not in SCHOOL_TABS:
            raise NotFound("no such tab")
        school_id = caller.school_id
        number = _page_number(request)
        context = {"tab": tab, "school": self.roster.school(school_id)}
        if tab == "gegevens":
            context["pending"] = self.roster.pending_syncs(school_id)
        if tab == "groepen":
            context["groups"] = self.roster.groups(school_id, number, PER_PAGE)
            details_key = request.args.get("details")
            if details_key:
                context["details"] = self.roster.group_details(school_id, details_key)
        elif tab in ("ict-coordinatoren", "leerkrachten"):
            context["staff"] = self.roster.staff(school_id, number, PER_PAGE, tab == "ict-coordinatoren")
            context["group_names"] = queries.group_names(self.roster, school_id)
        elif tab == "leerlingen":
            group_key = request.args.get("groep") or None
            search = (request.args.get("zoek") or "").strip()[:100] or None
            context.update(pupils=self.roster.pupils(school_id, number, PER_PAGE, group_key, search),
                           group_key=group_key, search=search,
                           group_names=queries.group_names(self.roster, school_id))
        return self._render(caller, "school.html", **context)

    @page("POST", "/beheer/schoolgegevens/synchronisatie/toepassen", level="beheer")
    def approve_sync_page(self, request, caller):
        """A sync held by the mass-deletion guard, applied after the coordinator has looked at it."""
        sync_id = request.form.get("sync_id", "")
        return self._act(caller, "De synchronisatie is toegepast.",
                         lambda: self.roster.approve_sync(caller.school_id, sync_id),
                         "/beheer/schoolgegevens/gegevens")

    @page("POST", "/beheer/schoolgegevens/leerkrachten/<string:staff_key>/uitnodigen", level="beheer")
    def invite_page(self, request, caller, staff_key):
        return self._act(caller, "De uitnodiging is verstuurd.",
                         lambda: signin.invite_staff(self.session, self.roster, caller.school_id, staff_key),
                         "/beheer/schoolgegevens/leerkrachten")

    # --- Beheer: leerling-logins (seed §4: Groepen -> groepsnaam -> wachtwoorden) ------------------
    # Keys travel in query strings and form fields, never in the path: a LAS key may hold any character.

    def _picture_set(self) -> dict:
        global _PICTURES
        if _PICTURES is None:  # a fixed set: ask the roster once per process
            catalogue = self.roster.picture_set()
            _PICTURES = {"length": catalogue["length"], "catalogue": catalogue["pictures"],
                         "svg": {p["name"]: p["svg"] for p in catalogue["pictures"]},
                         "labels": {p["name"]: p["label"] for p in catalogue["pictures"]}}
        return _PICTURES

    @page("GET", "/beheer/schoolgegevens/groepen/wachtwoorden", level="beheer")
    def group_logins_page(self, request, caller):
        group = self.roster.group_logins(caller.school_id, request.args.get("groep", ""))
        return self._render(caller, "group_logins.html", group=group, pictures=self._picture_set())

    @page("POST", "/beheer/schoolgegevens/groepen/loginmethode", level="beheer")
    def group_login_method_page(self, request, caller):
        group_key, method = request.form.get("groep", ""), request.form.get("method", "")
        back = "/beheer/schoolgegevens/groepen/wachtwoorden?" + urlencode({"groep": group_key})
        text = "De login methode van de groep is nu: " + ("Plaatjes." if method == "pictures" else "Pincode.")
        return self._act(caller, text, lambda: self.roster.set_group_login_method(
            caller.school_id, group_key, method, caller.by), back)

    @page("GET", "/beheer/schoolgegevens/groepen/printversie", level="beheer")
    def login_sheet_page(self, request, caller):
        group_key = request.args.get("groep", "")
        pdf = base64.b64decode(self.roster.login_sheet_pdf(caller.school_id, group_key))
        filename = "inloggegevens-" + (re.sub(r"[^A-Za-z0-9_-]+", "-", group_key).strip("-") or "groep") + ".pdf"
        return Response(pdf, mimetype="application/pdf", headers={
            **SECURITY_HEADERS, "Content-Disposition": f'inline; filename="{filename}"'})

    @page("GET", "/beheer/schoolgegevens/leerlingen/wachtwoord", level="beheer")
    def pupil_login_page(self, request, caller):
        pupil = self.roster.pupil_login(caller.school_id, request.args.get("leerling", ""))
        group_name = queries.group_names(self.roster, caller.school_id).get(pupil["group_key"])
        return self._render(caller, "pupil_login.html", pupil=pupil, group_name=group_name,
                            pictures=self._picture_set())

    def _pupil_back(self, request) -> str:
        pupil_key = request.form.get("leerling", "")
        return "/beheer/schoolgegevens/leerlingen/wachtwoord?" + urlencode({"leerling": pupil_key})

    @page("POST", "/beheer/schoolgegevens/leerlingen/pincode", level="beheer")
    def pincode_page(self, request, caller):
        pupil_key, pincode = request.form.get("leerling", ""), request.form.get("pincode", "").strip()
        return self._act(caller, "De pincode is gewijzigd.", lambda: self.roster.set_pincode(
            caller.school_id, pupil_key, pincode, caller.by), self._pupil_back(request))

    @page("POST", "/beheer/schoolgegevens/leerlingen/plaatjes", level="beheer")
    def pictures_page(self, request, caller):
        pupil_key = request.form.get("leerling", "")
        chosen = [request.form.get(f"plaatje{i + 1}", "") for i in range(self._picture_set()["length"])]
        if not all(chosen):
            self._flash(caller, "error", f"Kies {len(chosen)} plaatjes.")
            return redirect(self._pupil_back(request))
        return self._act(caller, "De leerlingplaatjes zijn gewijzigd.", lambda: self.roster.set_pictures(
            caller.school_id, pupil_key, chosen, caller.by), self._pupil_back(request))

    @page("POST", "/beheer/schoolgegevens/leerlingen/thuislogin", level="beheer")
    def add_home_email_page(self, request, caller):
        pupil_key, email = request.form.get("leerling", ""), request.form.get("email", "").strip()
        return self._act(caller, f"Er is een activeringsmail gestuurd naar {email}.",
                         lambda: self.roster.add_home_email(caller.school_id, pupil_key, email),
                         self._pupil_back(request))

    @page("POST", "/beheer/schoolgegevens/leerlingen/thuislogin/verwijderen", level="beheer")
    def remove_home_email_page(self, request, caller):
        pupil_key, email = request.form.get("leerling", ""), request.form.get("email", "")
        return self._act(caller, f"{email} is verwijderd.", lambda: self.roster.remove_home_email(
            caller.school_id, pupil_key, email), self._pupil_back(request))

    # --- Thuislogin activeren (the link in the activation mail; no account needed) ----------------

    @page("GET", "/thuislogin/activeren")
    def activate_home_login_form(self, request, caller):
        # GET only shows a button: mail scanners that open links must not activate anything
        return self._anonymous_form(request, "activate_home_login.html", token=request.args.get("token", ""))

    @page("POST", "/thuislogin/activeren")
    def activate_home_login(self, request, caller):
        token = request.form.get("token", "")
        if not form_token_ok(request):
            return self._anonymous_form(request, "activate_home_login.html", 403, token=token,
                                        error="Het formulier was verlopen. Open de link uit de e-mail opnieuw.")
        try:
            answer = self.roster.activate_home_email(token)
        except KoppelError as exc:
            status = status_for(exc)
            return self._anonymous_form(request, "activate_home_login.html", status, error=dutch.message(exc, status))
        return self._anonymous_form(request, "activate_home_login.html", done=True, email=answer["email"])

    # --- Beheer: Licenties en koppelingen --------------------------------------------------------

    @page("GET", "/beheer/licenties", level="beheer")
    def licences_per_group(self, request, caller):
        return self._licence_list(request, caller, "group")

    @page("GET", "/beheer/licenties/per-kind", level="beheer")
    def licences_per_pupil(self, request, caller):
        return self._licence_list(request, caller, "pupil")

    def _licence_list(self, request, caller, kind: str) -> Response:
        active_only = request.args.get("actief") == "1"
        items = queries.licences(self.licensing, caller.school_id, kind, active_only)
        number = min(_page_number(request), max(1, -(-len(items) // PER_PAGE)))
        return self._render(caller, "licences.html", kind=kind, active_only=active_only,
                            licences=queries.page_list(items, number, PER_PAGE))

    @page("GET", "/beheer/licenties/<string:licence_id>", level="beheer")
    def licence_page(self, request, caller, licence_id):
        school_id = caller.school_id
        licence = queries.licence_details(self.licensing, self.roster, school_id, licence_id)
        context = {"licence": licence, "groups": self.licensing.known_groups(school_id)}
        if licence["kind"] == "pupil":
            group_key = request.args.get("groep") or None
            context["group_key"] = group_key
            coupled = {c["target_key"] for c in licence["couplings"]}
            context["pupils"] = ([p for p in queries.all_pupils(self.roster, school_id, group_key)
                                  if p["key"] not in coupled] if group_key else [])
            context["group_names"] = {g["key"]: g["name"] for g in context["groups"]}
        return self._render(caller, "licence.html", **context)

    @page("POST", "/beheer/licenties/<string:licence_id>/groepen", level="beheer")
    def couple_group_page(self, request, caller, licence_id):
        group_key = request.form.get("group_key", "")
        back = f"/beheer/licenties/{licence_id}"
        if not group_key:
            self._flash(caller, "error", "Kies een groep.")
            return redirect(back)
        return self._act(caller, "De licentie is aan de groep gekoppeld.",
                         lambda: self.licensing.couple_group(caller.school_id, licence_id, group_key, caller.by),
                         back)

    @page("POST", "/beheer/licenties/<string:licence_id>/leerlingen", level="beheer")
    def couple_pupil_page(self, request, caller, licence_id):
        pupil_key, group_key = request.form.get("pupil_key", ""), request.form.get("groep", "")
        back = f"/beheer/licenties/{licence_id}" + (f"?{urlencode({'groep': group_key})}" if group_key else "")
        if not pupil_key:
            self._flash(caller, "error", "Kies een leerling.")
            return redirect(back)
        return self._act(caller, "De leerling is aan de licentie gekoppeld.",
                         lambda: self.licensing.couple_pupil(caller.school_id, licence_id, pupil_key, caller.by),
                         back)

    @page("POST", "/beheer/licenties/<string:licence_id>/ontkoppelen/<string:coupling_id>", level="beheer")
    def decouple_page(self, request, caller, licence_id, coupling_id):
        return self._act(caller, "Ontkoppeld.",
                         lambda: self.licensing.decouple(caller.school_id, licence_id, coupling_id, caller.by),
                         f"/beheer/licenties/{licence_id}")

    # --- Beheer: Resultaatkoppelingen -----------------------------------------------------------

    @page("GET", "/beheer/resultaatkoppelingen", level="beheer")
    def results_page(self, request, caller):
        school_id = caller.school_id
        return self._render(caller, "results.html", consent=self.results.consent(school_id),
                            couplings=queries.lvs_couplings(self.results, school_id))

    @page("POST", "/beheer/resultaatkoppelingen/toestemming", level="beheer")
    def consent_page(self, request, caller):
        given = request.form.get("given") == "1"
        text = ("Toestemming is gegeven." if given
                else "Toestemming is ingetrokken: er worden geen resultaten verstuurd.")
        return self._act(caller, text, lambda: self.results.set_consent(caller.school_id, given, caller.by),
                         "/beheer/resultaatkoppelingen")

    @page("GET", "/beheer/resultaatkoppelingen/toevoegen", level="beheer")
    def add_coupling_form(self, request, caller):
        return self._render(caller, "add_coupling.html", options=self.results.lvs_options(), values={})

    @page("POST", "/beheer/resultaatkoppelingen/toevoegen", level="beheer")
    def add_coupling(self, request, caller):
        values = {"lvs": request.form.get("lvs", ""), "endpoint_url": request.form.get("endpoint_url", "").strip(),
                  "authorisation_key": request.form.get("authorisation_key", "").strip()}
        errors = {}
        if not values["lvs"]:
            errors["lvs"] = "Kies een leerlingvolgsysteem."
        if not values["authorisation_key"]:
            errors["authorisation_key"] = "Vul de autorisatiesleutel in."
        elif len(values["authorisation_key"]) > 64:
            errors["authorisation_key"] = "De autorisatiesleutel is hoogstens 64 tekens lang."
        if not errors:
            try:
                self.results.add_lvs_coupling(caller.school_id, {**values, "endpoint_url": values["endpoint_url"]
                                                                 or None}, caller.by)
            except KoppelError as exc:
                status = status_for(exc)
                return self._render(caller, "add_coupling.html", status, options=self.results.lvs_options(),
                                    values=values, error=dutch.message(exc, status),
                                    field_errors={k: "; ".join(map(str, v)) if isinstance(v, list) else str(v)
                                                  for k, v in exc.fields.items()})
            self._flash(caller, "success", "De koppeling is opgeslagen.")
            return redirect("/beheer/resultaatkoppelingen")
        return self._render(caller, "add_coupling.html", 400, options=self.results.lvs_options(), values=values,
                            error="Controleer de gemarkeerde velden.", field_errors=errors)

    @page("POST", "/beheer/resultaatkoppelingen/<string:coupling_id>/sleutel", level="beheer")
    def change_key_page(self, request, caller, coupling_id):
        key = request.form.get("authorisation_key", "").strip()
        if not key:
            self._flash(caller, "error", "Vul de nieuwe autorisatiesleutel in.")
            return redirect("/beheer/resultaatkoppelingen")
        return self._act(caller, "De autorisatiesleutel is gewijzigd.",
                         lambda: self.results.update_lvs_key(caller.school_id, coupling_id, key, caller.by),
                         "/beheer/resultaatkoppelingen")

    @page("POST", "/beheer/resultaatkoppelingen/<string:coupling_id>/verwijderen", level="beheer")
    def remove_coupling_page(self, request, caller, coupling_id):
        return self._act(caller, "De koppeling is verwijderd.",
                         lambda: self.results.remove_lvs_coupling(caller.school_id, coupling_id, caller.by),
                         "/beheer/resultaatkoppelingen")


def _page_number(request) -> int:
    try:
        return max(1, min(int(request.args.get("pagina", 1)), 100000))
    except ValueError:
        return 1

