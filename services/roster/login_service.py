"""The roster service's pupil-login entrypoints (seed §4), mixed into RosterService.

Every call is scoped to a school: another school's pupil or group answers NotFound, exactly like
one that does not exist. `by` is who made the change (the coordinator's account), kept on the row.
Nothing here logs arguments: pincodes, pictures and addresses are secrets.
"""
from __future__ import annotations

import base64

from nameko.rpc import rpc

from services.roster import home_logins, login_sheet, logins, pictures
from services.roster import models as m
from shared.errors import DOMAIN_ERRORS


class PupilLoginEntrypoints:
    session = None  # RosterService provides Database("roster")

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def group_logins(self, school_id: str, group_key: str) -> dict:
        """{group_key, group_name, composite, login_method, pupils: [{key, display_name, login_method,
        pincode, pictures, home_emails}]} in name order. NotFound for an unknown group."""
        with self.session.begin():  # may create the logins of pupils imported before this feature
            return logins.group_logins(self.session, school_id, group_key)

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def pupil_login(self, school_id: str, pupil_key: str) -> dict:
        """One pupil's entry as in group_logins, plus group_key (their own group, for "« Terug").
        NotFound for an unknown pupil (also one of another school)."""
        with self.session.begin():
            pupil = logins.find_pupil(self.session, school_id, pupil_key)
            return {**logins.pupil_login(self.session, pupil), "group_key": pupil.group_key}

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def set_group_login_method(self, school_id: str, group_key: str, method: str, by: str) -> dict:
        """"Wijzig login methode voor de groep": method "pincode" | "pictures". Returns group_logins.
        InvalidInput (method, by; group_key for a composite group), NotFound."""
        with self.session.begin():
            return logins.set_group_login_method(self.session, school_id, group_key, method, by)

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def set_pincode(self, school_id: str, pupil_key: str, pincode: str, by: str) -> dict:
        """"Wachtwoord/leerlingplaatje wijzigen": exactly 4 digits, else InvalidInput (field pincode).
        Returns the pupil's entry as in group_logins. NotFound for an unknown pupil."""
        with self.session.begin():
            return logins.set_pincode(self.session, school_id, pupil_key, pincode, by)

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def set_pictures(self, school_id: str, pupil_key: str, pictures: list[str], by: str) -> dict:
        """A new picture login: picture_set()["length"] names of the set, in order, else InvalidInput
        (field pictures). Returns the pupil's entry. NotFound for an unknown pupil."""
        with self.session.begin():
            return logins.set_pictures(self.session, school_id, pupil_key, pictures, by)

    @rpc
    def picture_set(self) -> dict:
        """{length, pictures: [{name, label, svg}]}: the fixed pictures a picture login is made of."""
        return pictures.catalogue()

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def login_sheet_pdf(self, school_id: str, group_key: str) -> str:
        """"Printversie": the group's login cards as a base64-encoded A4 PDF. NotFound for an unknown group."""
        with self.session.begin():
            data = logins.group_logins(self.session, school_id, group_key)
            school = self.session.get(m.School, school_id)
        return base64.b64encode(login_sheet.render(data, school.name if school else None)).decode()

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def add_home_email(self, school_id: str, pupil_key: str, email: str) -> dict:
        """"Thuislogin": register an address (at most two per pupil) and mail its activation link.
        Returns the pupil's entry. InvalidInput / Conflict (field email), NotFound."""
        with self.session.begin():
            return home_logins.add_home_email(self.session, school_id, pupil_key, email)

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def remove_home_email(self, school_id: str, pupil_key: str, email: str) -> dict:
        """Returns the pupil's entry; NotFound (field email) if the pupil has no such address."""
        with self.session.begin():
            return home_logins.remove_home_email(self.session, school_id, pupil_key, email)

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def activate_home_email(self, token: str) -> dict:
        """The activation link's target: {activated: True, email}; InvalidInput (field token) otherwise."""
        with self.session.begin():
            return home_logins.activate_home_email(self.session, token)

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def verify_pupil_login(self, school_id: str, pupil_key: str, pincode: str | None = None,
                           pictures: list[str] | None = None) -> dict:
        """For the learning app: {"valid": bool} and nothing else. Rate-limited per pupil (a locked
        pupil, and a pupil unknown in this school, get valid: false). InvalidInput (field login) unless
        exactly one of pincode/pictures."""
        with self.session.begin():
            return {"valid": logins.verify_pupil_login(self.session, school_id, pupil_key, pincode, pictures)}
