"""roster service: nameko entrypoints only; the rules live in store/diff/queries/edexml/basispoort/pull."""
from __future__ import annotations

import base64
import binascii
import logging

from nameko.rpc import rpc
from nameko.timer import Timer

from services.roster import basispoort, edexml, login_service, pull, queries, schedule, store
from services.roster.models import messaging
from shared import config
from shared.db import ping
from shared.errors import DOMAIN_ERRORS, InvalidInput
from shared.messaging import utcnow
from shared.nameko_ext import Database, OutboxRelay

log = logging.getLogger(__name__)


class ScheduleTimer(Timer):
    """nameko's timer with its interval read from ROSTER_SCHEDULE_CHECK_SECONDS when the service starts."""

    def __init__(self, **kwargs):
        super().__init__(interval=60, **kwargs)

    def setup(self):
        self.interval = config.float_setting("ROSTER_SCHEDULE_CHECK_SECONDS", 60)
        schedule.settings()  # a bad ROSTER_SYNC_AT / ROSTER_SYNC_TZ stops the service at start, not at night


# The mixin is reached through its module: `nameko run` takes every class with entrypoints in this module.
class RosterService(login_service.PupilLoginEntrypoints):
    name = "roster"

    session = Database("roster")
    relay = OutboxRelay(messaging)

    @rpc
    def health(self) -> dict:
        ping(self.session)
        return {"service": self.name, "status": "ok"}

    # --- intake -----------------------------------------------------------------------------

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def import_edexml(self, content_b64: str, dry_run: bool = False, name: str | None = None) -> dict:
        """Import an uploaded EDEXML file (base64). Returns the sync report of the CLI contract;
        raises InvalidInput with one field entry per problem ("line N: ...")."""
        try:
            data = base64.b64decode(content_b64, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidInput("invalid upload", {"file": ["not base64"]}) from None
        try:
            snapshot = edexml.parse_bytes(data)
        except edexml.EdexmlError as exc:
            raise InvalidInput("invalid EDEXML file", {"file": [str(p) for p in exc.problems]}) from None
        with self.session.begin():
            return store.sync_school(self.session, snapshot, dry_run=dry_run, name=name)

    @ScheduleTimer.decorator
    def nightly_sync(self) -> dict | None:
        """Every ROSTER_SCHEDULE_CHECK_SECONDS: if the nightly Basispoort sync is due (ROSTER_SYNC_AT)
        and no roster process has claimed tonight's run yet, claim it and sync every school."""
        settings = basispoort.Settings.from_env()
        if settings is None:
            return None
        at, tz, window = schedule.settings()
        run_date = schedule.due_run_date(utcnow(), at, tz, window)
        if run_date is None:
            return None
        with self.session.begin():
            if not schedule.claim(self.session, run_date):
                return None
        log.info("nightly Basispoort sync of %s claimed by %s", run_date, schedule.claimant())
        try:
            with basispoort.Client(settings) as client:
                summary = pull.sync_all(self.session, client)
        except basispoort.BasispoortError as exc:
            summary = {"error": str(exc)}
        with self.session.begin():
            schedule.finish(self.session, run_date, summary)
        log.info("nightly Basispoort sync of %s done: %s", run_date,
                 {k: v for k, v in summary.items() if k != "failures"})
        return summary

    # --- mass-deletion guard ----------------------------------------------------------------

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def pending_syncs(self, school_id: str) -> list[dict]:
        """The school's syncs held by the mass-deletion guard (sync_id, source, created_at, summary
        with the counts and `pupils_before`). NotFound for an unknown school."""
        return queries.pending_syncs(self.session, school_id)

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def approve_sync(self, school_id: str, sync_id: str) -> dict:
        """Apply a held sync of this school; returns its counts. NotFound if the sync is not this
        school's (or does not exist), Conflict if it is no longer pending."""
        with self.session.begin():
            return store.approve(self.session, sync_id, school_id=school_id)

    # --- read side (Schoolgegevens) ---------------------------------------------------------

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def school(self, school_id: str) -> dict:
        """Gegevens: name, BRIN, dependance, schooljaar, `last_sync_at` (last successful sync),
        counts, pending syncs. NotFound for an unknown school."""
        return queries.school_details(self.session, school_id)

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def groups(self, school_id: str, page: int = 1, per_page: int = 50) -> dict:
        """Groepen, one page: groups then composite groups by name, with pupil and teacher counts."""
        return queries.groups(self.session, school_id, page, per_page)

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def group_details(self, school_id: str, group_key: str) -> dict:
        """Details: the group with its teachers and all its pupils (members of a composite group too)."""
        return queries.group_details(self.session, school_id, group_key)

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def pupils(self, school_id: str, page: int = 1, per_page: int = 50,
               group_key: str | None = None, search: str | None = None) -> dict:
        """Leerlingen, one page, each with their group (key and name)."""
        return queries.pupils(self.session, school_id, page, per_page, group_key, search)

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def staff(self, school_id: str, page: int = 1, per_page: int = 50, ict_only: bool = False) -> dict:
        """Leerkrachten, one page, each with their groups (keys and names); `ict_only` for the coordinators."""
        return queries.staff(self.session, school_id, page, per_page, ict_only)

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def teachers(self, school_id: str, page: int = 1, per_page: int = 50) -> dict:
        """Leerkrachten (same as `staff`)."""
        return queries.staff(self.session, school_id, page, per_page)

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def ict_coordinators(self, school_id: str, page: int = 1, per_page: int = 50) -> dict:
        """Ict-coördinatoren: staff with role ICT (EDEXML) or ICTCoordinator (Basispoort)."""
        return queries.staff(self.session, school_id, page, per_page, ict_only=True)

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def memberships(self, email: str) -> list[dict]:
        """The schools a staff member (school e-mail) belongs to, for "Selecteer school"."""
        return queries.memberships(self.session, email)

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def basispoort_identities(self, school_id: str, people: list[dict]) -> dict:
        """Institution id and ECK iDs of people, for licensing's rights pusher (never log the result)."""
        return queries.basispoort_identities(self.session, school_id, people)
