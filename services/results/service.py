"""results service: nameko entrypoints only; rules in consent.py, lvs_couplings.py, intake.py, export.py."""
from __future__ import annotations

from nameko.rpc import rpc

from services.results import consent, couplings, intake, lvs_couplings
from services.results.export_runner import ResultsExporter
from services.results.models import messaging
from shared.db import ping
from shared.errors import DOMAIN_ERRORS
from shared.nameko_ext import Database, OutboxRelay, contract_event_handler

# The learning app publishes `result.recorded` on its own nameko events exchange, `learning-app.events`.
LEARNING_APP = "learning-app"


class ResultsService:
    name = "results"

    session = Database("results")
    relay = OutboxRelay(messaging)
    exporter = ResultsExporter()

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

    # --- intake -------------------------------------------------------------------------

    @contract_event_handler(LEARNING_APP, "result.recorded")
    def on_result_recorded(self, event: dict) -> None:
        with self.session.begin():
            if messaging.first_delivery(self.session, "results.on_result_recorded", event["event_id"]):
                intake.record_result(self.session, event["school"], event["payload"])

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def record_result(self, data: dict) -> dict:
        """Record one result (fields of `result.recorded` plus `school_id`). Returns
        `{"result_key", "stored", "reason"}`; reason is None when queued for export, else
        test_result, no_consent, no_lvs_coupling or duplicate. InvalidInput names the fields."""
        values = intake.validated(data)
        school_id = values.pop("school_id")
        with self.session.begin():
            return intake.record_result(self.session, school_id, values)

    # --- consent ------------------------------------------------------------------------

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def consent(self, school_id: str) -> dict:
        """`{"given": bool, "by": str | None, "at": ISO-8601 | None}`; off until someone turns it on."""
        return consent.consent(self.session, school_id)

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def set_consent(self, school_id: str, given: bool, by: str) -> dict:
        """Give or withdraw consent; returns the new consent. InvalidInput for a bad school, given or by."""
        with self.session.begin():
            return consent.set_consent(self.session, school_id, given, by)

    # --- LVS couplings ("Resultaatkoppelingen") -----------------------------------------

    @rpc
    def lvs_options(self) -> list[dict]:
        """`[{"lvs", "lvs_name", "endpoint_url_required"}]`: the LVSs a coordinator can choose."""
        return lvs_couplings.lvs_options()

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def lvs_couplings(self, school_id: str) -> list[dict]:
        """The school's couplings: `{id, lvs, lvs_name, endpoint_url, key_hint, status, last_export_at,
        last_export_count, last_error}`; status is active, retrying, key_rejected or no_consent."""
        return lvs_couplings.lvs_couplings(self.session, school_id)

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def add_lvs_coupling(self, school_id: str, data: dict, by: str) -> dict:
        """Couple to an LVS (`data`: lvs, endpoint_url?, authorisation_key); returns the coupling
        (key as hint only). InvalidInput per field; Conflict when already coupled to that LVS."""
        with self.session.begin():
            return lvs_couplings.add_lvs_coupling(self.session, school_id, data, by)

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def update_lvs_key(self, school_id: str, coupling_id: str, authorisation_key: str, by: str) -> dict:
        """Replace the key; sending resumes at once. NotFound for another school's coupling."""
        with self.session.begin():
            return lvs_couplings.update_lvs_key(self.session, school_id, coupling_id, authorisation_key, by)

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def remove_lvs_coupling(self, school_id: str, coupling_id: str, by: str) -> None:
        """Remove the coupling; NotFound for another school's coupling."""
        with self.session.begin():
            lvs_couplings.remove_lvs_coupling(self.session, school_id, coupling_id, by)
