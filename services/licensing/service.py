"""licensing service: nameko entrypoints only; rules in licences.py and roster_copy.py."""
from __future__ import annotations

from nameko.rpc import rpc

from services.licensing import licences, roster_copy
from services.licensing.models import messaging
from shared.db import ping
from shared.errors import DOMAIN_ERRORS
from shared.nameko_ext import Database, OutboxRelay, contract_event_handler


class LicensingService:
    name = "licensing"

    session = Database("licensing")
    relay = OutboxRelay(messaging)

    @rpc
    def health(self) -> dict:
        ping(self.session)
        return {"service": self.name, "status": "ok"}

    @contract_event_handler("roster", "roster.updated")
    def on_roster_updated(self, event: dict) -> None:
        with self.session.begin():
            if not messaging.first_delivery(self.session, "licensing.on_roster_updated", event["event_id"]):
                return
            roster_copy.apply_roster_updated(self.session, event)

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def register_licence(self, data: dict) -> dict:
        """Create or update (by contract number) a licence; raises InvalidInput with fields."""
        with self.session.begin():
            return licences.register_licence(self.session, data)

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def list_licences(self, school_id: str, kind: str | None = None, active_only: bool = False) -> list[dict]:
        return licences.list_licences(self.session, school_id, kind, active_only)

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def licence(self, school_id: str, licence_id: str) -> dict:
        lic = licences.get_licence(self.session, school_id, licence_id)
        return {**licences.licence_view(lic), "couplings": licences.couplings(self.session, school_id, licence_id)}

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def couple_group(self, school_id: str, licence_id: str, group_key: str, by: str) -> dict:
        with self.session.begin():
            return licences.couple_group(self.session, school_id, licence_id, group_key, by)

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def couple_pupil(self, school_id: str, licence_id: str, pupil_key: str, by: str) -> dict:
        with self.session.begin():
            return licences.couple_pupil(self.session, school_id, licence_id, pupil_key, by)

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def decouple(self, school_id: str, licence_id: str, coupling_id: str, by: str) -> None:
        with self.session.begin():
            licences.decouple(self.session, school_id, licence_id, coupling_id, by)

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def known_groups(self, school_id: str) -> list[dict]:
        """The groups licensing knows for a school (its own copy), for "Kies een groep"."""
        return roster_copy.known_groups(self.session, school_id)
