"""roster service: nameko entrypoints only; the rules live in store/diff/queries/edexml."""
from __future__ import annotations

import base64

from nameko.rpc import rpc

from services.roster import edexml, login_service, queries, store
from services.roster.models import messaging
from shared.db import ping
from shared.errors import DOMAIN_ERRORS, InvalidInput
from shared.nameko_ext import Database, OutboxRelay


# The mixin is reached through its module: `nameko run` takes every class with entrypoints in this module.
class RosterService(login_service.PupilLoginEntrypoints):
    name = "roster"

    session = Database("roster")
    relay = OutboxRelay(messaging)

    @rpc
    def health(self) -> dict:
        ping(self.session)
        return {"service": self.name, "status": "ok"}

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def import_edexml(self, content_b64: str, dry_run: bool = False, name: str | None = None) -> dict:
        """Import an uploaded EDEXML file (base64). Returns the sync report of the CLI contract;
        raises InvalidInput with one field entry per problem ("line N: ...")."""
        try:
            snapshot = edexml.parse_bytes(base64.b64decode(content_b64))
        except edexml.EdexmlError as exc:
            raise InvalidInput("invalid EDEXML file", {"file": [str(p) for p in exc.problems]}) from None
        with self.session.begin():
            return store.sync_school(self.session, snapshot, dry_run=dry_run, name=name)

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def approve_sync(self, sync_id: str) -> dict:
        with self.session.begin():
            return store.approve(self.session, sync_id)

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def school(self, school_id: str) -> dict:
        return queries.school_details(self.session, school_id)

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def groups(self, school_id: str, page: int = 1, per_page: int = 50) -> dict:
        return queries.groups(self.session, school_id, page, per_page)

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def group_details(self, school_id: str, group_key: str) -> dict:
        return queries.group_details(self.session, school_id, group_key)

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def pupils(self, school_id: str, page: int = 1, per_page: int = 50,
               group_key: str | None = None, search: str | None = None) -> dict:
        return queries.pupils(self.session, school_id, page, per_page, group_key, search)

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def staff(self, school_id: str, page: int = 1, per_page: int = 50, ict_only: bool = False) -> dict:
        return queries.staff(self.session, school_id, page, per_page, ict_only)

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def memberships(self, email: str) -> list[dict]:
        return queries.memberships(self.session, email)

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def basispoort_identities(self, school_id: str, people: list[dict]) -> dict:
        """Institution id and ECK iDs of people, for licensing's rights pusher (never log the result)."""
        return queries.basispoort_identities(self.session, school_id, people)
