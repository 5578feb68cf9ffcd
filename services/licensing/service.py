"""licensing service: nameko entrypoints only; rules in licences.py, importing.py, entitlements.py,
roster_copy.py and reactions.py."""
from __future__ import annotations

import eventlet
from nameko.rpc import RpcProxy, rpc

from services.licensing import entitlements, importing, licences, reactions, rights, roster_copy
from services.licensing.basispoort import HostedLika, LikaError, configured_timer
from services.licensing.models import messaging
from shared.db import ping
from shared.errors import DOMAIN_ERRORS, NotFound
from shared.nameko_ext import Database, OutboxRelay, contract_event_handler


class LicensingService:
    name = "licensing"

    session = Database("licensing")
    relay = OutboxRelay(messaging)
    lika = HostedLika()
    roster = RpcProxy("roster")

    @rpc
    def health(self) -> dict:
        ping(self.session)
        return {"service": self.name, "status": "ok"}

    @contract_event_handler("roster", "roster.updated")
    def on_roster_updated(self, event: dict) -> None:
        with self.session.begin():
            if not messaging.first_delivery(self.session, "licensing.on_roster_updated", event["event_id"]):
                return
            removed = roster_copy.apply_roster_updated(self.session, event)
            reactions.react_to_removals(self.session, event["school"], removed)
            if self.lika.enabled:  # group memberships may have changed: re-send the group couplings
                rights.record_resync(self.session, event["school"])

    # --- rights in Basispoort (hosted lika) --------------------------------------------------

    @contract_event_handler("licensing", "license.coupled")
    def on_license_coupled(self, event: dict) -> None:
        self._record_rights_push("licensing.on_license_coupled", event)

    @contract_event_handler("licensing", "license.decoupled")
    def on_license_decoupled(self, event: dict) -> None:
        self._record_rights_push("licensing.on_license_decoupled", event)

    def _record_rights_push(self, consumer: str, event: dict) -> None:
        if not self.lika.enabled:
            return
        with self.session.begin():
            if messaging.first_delivery(self.session, consumer, event["event_id"]):
                rights.record(self.session, event)

    @configured_timer("RIGHTS_PUSH_INTERVAL", 1.0)
    def push_rights(self) -> None:
        """Work off due grants/revokes at Basispoort (every process; pushes are leased with SKIP LOCKED)."""
        if not self.lika.enabled:
            return
        for push_id in rights.claim_due(self.session):
            rights.push_one(self.session, push_id, self.lika.client, self._basispoort_identities,
                            max_attempts=self.lika.max_attempts, base_delay=self.lika.base_delay,
                            max_delay=self.lika.max_delay, product_url=self.lika.product_url)

    def _basispoort_identities(self, school_id: str, people: list[dict]) -> dict:
        try:
            with eventlet.Timeout(10):
                return self.roster.basispoort_identities(school_id, people)
        except eventlet.Timeout:
            raise LikaError("roster did not answer with the ECK iDs in time") from None
        except NotFound:
            raise LikaError("roster does not know the school") from None
        except Exception as exc:  # noqa: BLE001 - roster down or unknown: retry later
            raise LikaError(f"roster unavailable: {type(exc).__name__}") from None

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def licence_rights(self, school_id: str, licence_id: str) -> list[dict]:
        """Per pushed coupling of a licence: its Basispoort state (pending|granted|revoked|failed), last error."""
        return rights.licence_rights(self.session, school_id, licence_id)

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def retry_rights(self, school_id: str, coupling_id: str) -> int:
        """Queue a coupling's failed Basispoort pushes again; returns how many."""
        return rights.retry(self.session, school_id, coupling_id)

    # --- licences and couplings ---------------------------------------------------------------

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def register_licence(self, data: dict) -> dict:
        """Create or update (by contract number) a licence; raises InvalidInput with fields."""
        with self.session.begin():
            return licences.register_licence(self.session, data)

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def import_licences(self, rows: list[dict]) -> dict:
        """Import licence rows (as `koppel licences import`): all or none, by contract number.

        Returns {"rows", "created", "updated", "unchanged"}; InvalidInput maps "row N" to field errors.
        """
        with self.session.begin():
            return importing.import_licences(self.session, rows)

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def list_licences(self, school_id: str, kind: str | None = None, active_only: bool = False) -> list[dict]:
        """Licences of a school, kind "group" ("per groep") or "pupil" ("per kind"), optionally only active."""
        return licences.list_licences(self.session, school_id, kind, active_only)

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def licence(self, school_id: str, licence_id: str) -> dict:
        """One licence with its active couplings; NotFound for another school's licence."""
        lic = licences.get_licence(self.session, school_id, licence_id)
        couplings = licences.couplings(self.session, school_id, licence_id)
        states = rights.coupling_states(self.session, school_id, [c["id"] for c in couplings])
        for coupling in couplings:
            coupling["basispoort"] = states.get(coupling["id"])
        return {**licences.licence_view(lic), "couplings": couplings}

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def couple_group(self, school_id: str, licence_id: str, group_key: str, by: str) -> dict:
        """Couple a group licence to a group; a no-op when coupled already. Returns the coupling."""
        with self.session.begin():
            return licences.couple_group(self.session, school_id, licence_id, group_key, by)

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def couple_pupil(self, school_id: str, licence_id: str, pupil_key: str, by: str) -> dict:
        """Give a pupil a seat; Conflict "no seats available" when none are left. Returns the coupling."""
        with self.session.begin():
            return licences.couple_pupil(self.session, school_id, licence_id, pupil_key, by)

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def decouple(self, school_id: str, licence_id: str, coupling_id: str, by: str) -> None:
        """End a coupling (frees a seat); NotFound for an unknown coupling."""
        with self.session.begin():
            licences.decouple(self.session, school_id, licence_id, coupling_id, by)

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def known_groups(self, school_id: str) -> list[dict]:
        """The groups licensing knows for a school (its own copy), for "Kies een groep"."""
        return roster_copy.known_groups(self.session, school_id)

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def known_pupils(self, school_id: str, group_key: str) -> list[dict]:
        """The pupils of a group as licensing knows them ({"key", "group"}), for "Kies een leerling"."""
        return roster_copy.known_pupils(self.session, school_id, group_key)

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def entitlements(self, school_id: str, person_kind: str, person_key: str) -> list[dict]:
        """Products a pupil or staff member may use now (group couplings of their groups + own seats)."""
        return entitlements.entitlements(self.session, school_id, person_kind, person_key)

    @rpc(expected_exceptions=DOMAIN_ERRORS)
    def teacher_start_page(self, school_id: str, staff_key: str) -> list[dict]:
        """Per method, the licences of the teacher's groups by product type (the seed's order)."""
        return entitlements.teacher_start_page(self.session, school_id, staff_key)
