"""results service: nameko entrypoints only."""
from __future__ import annotations

from nameko.rpc import rpc

from services.results import couplings
from services.results.models import messaging
from shared.db import ping
from shared.errors import DOMAIN_ERRORS
from shared.nameko_ext import Database, OutboxRelay, contract_event_handler


class ResultsService:
    name = "results"

    session = Database("results")
    relay = OutboxRelay(messaging)

    @rpc
    def health(self) -> dict:
        ping(self.session)
        return {"service": self.name, "status": "ok"}

    @contract_event_handler("licensing", "license.coupled")
    def on_license_coupled(self, event: dict) -> None:
        with self.session.begin():
            if messaging.first_delivery(self.session, "results.on_license_coupled", event["event_id"]):
                couplings.record_coupled(self.session, event)

    @contract_event_handler("licensing", "license.decoupled")
    def on_license_decoupled(self, event: dict) -> None:
        with self.session.begin():
            if messaging.first_delivery(self.session, "results.on_license_decoupled", event["event_id"]):
                couplings.record_decoupled(self.session, event)

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def licence_couplings(self, school_id: str) -> list[dict]:
        return couplings.licence_couplings(self.session, school_id)
