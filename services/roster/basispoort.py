"""Basispoort intake: a client for the publisher REST API v2 for institutions, and the mapping of its
JSON to the same RosterSnapshot an EDEXML file gives.

Endpoints (base `/rest/v2/instellingen`): `/` (the institution ids this publisher may sync),
`/{id}` (groups, subgroups, pupils and staff in one answer), `/{id}/details` (name, BRIN,
dependancecode), `/{id}/groepen`, `/{id}/leerlingen`, `/{id}/staf`. Authentication is a TLS
client certificate (PEM). A pull uses `/details` + `/{id}`: two requests per school.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import time
from dataclasses import dataclass
from typing import Any

import requests
from marshmallow import ValidationError

from services.roster import schemas
from services.roster.snapshot import Group, Pupil, RosterSnapshot, SchoolInfo, Staff
from shared import config

log = logging.getLogger(__name__)
BASE_PATH = "/rest/v2/instellingen"
RETRY_STATUSES = {429, 500, 502, 503, 504}


class BasispoortError(Exception):
    """Basispoort could not be reached or refused the request (after retries). Never carries personal data."""


class BasispoortDataError(Exception):
    """Basispoort answered, but the roster cannot be imported; `problems` say where (JSON path) and why."""

    def __init__(self, problems: list[str], school_id: str | None = None):
        super().__init__("; ".join(problems))
        self.problems = problems
        self.school_id = school_id  # known when the details could be read


@dataclass(frozen=True)
class Settings:
    base_url: str
    cert_file: str | None = None  # PEM client certificate (may hold the key too)
    key_file: str | None = None
    ca_file: str | None = None  # CA bundle to verify Basispoort; default: the system's
    timeout: float = 30.0
    attempts: int = 4
    backoff: float = 1.0  # seconds before the 2nd attempt; doubles per attempt

    @classmethod
    def from_env(cls) -> Settings | None:
        """None when `BASISPOORT_URL` is not set (no automatic link configured)."""
        url = config.setting("BASISPOORT_URL", "")
        if not url:
            return None
        return cls(base_url=url.rstrip("/"),
                   cert_file=config.setting("BASISPOORT_CERT_FILE", "") or None,
                   key_file=config.setting("BASISPOORT_KEY_FILE", "") or None,
                   ca_file=config.setting("BASISPOORT_CA_FILE", "") or None,
                   timeout=config.float_setting("BASISPOORT_TIMEOUT_SECONDS", 30.0),
                   attempts=int(config.setting("BASISPOORT_ATTEMPTS", "4")),
                   backoff=config.float_setting("BASISPOORT_BACKOFF_SECONDS", 1.0))


class Client:
    """Basispoort's institutions API over HTTPS with a client certificate; retries transient
    failures (connection errors, timeouts, 429 and 5xx) with exponential backoff."""

    def __init__(self, settings: Settings, *, sleep=time.sleep):
        for setting, path in (("BASISPOORT_CERT_FILE", settings.cert_file), ("BASISPOORT_KEY_FILE", settings.key_file),
                              ("BASISPOORT_CA_FILE", settings.ca_file)):
            if path and not os.path.isfile(path):
                raise BasispoortError(f"{setting}: no file at {path}")
        self.settings = settings
        self.sleep = sleep
        self.http = requests.Session()
        self.http.headers["Accept"] = "application/json"
        # passed on every request: a session-level `verify` loses to REQUESTS_CA_BUNDLE in the environment
        self.cert = (settings.cert_file, settings.key_file) if settings.key_file else settings.cert_file
        self.verify = settings.ca_file or True

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def get(self, path: str) -> Any:
        url = f"{self.settings.base_url}{BASE_PATH}{path}"
        failure = ""
        for attempt in range(1, self.settings.attempts + 1):
            if attempt > 1:
                self.sleep(self.settings.backoff * 2 ** (attempt - 2))
            try:
                response = self.http.get(url, timeout=self.settings.timeout, cert=self.cert, verify=self.verify)
            except requests.exceptions.SSLError as exc:
                raise BasispoortError(f"GET {path}: TLS failed ({type(exc).__name__})") from None
            except (requests.ConnectionError, requests.Timeout) as exc:
                failure = f"{type(exc).__name__}"
                log.warning("Basispoort GET %s attempt %d failed: %s", path, attempt, failure)
                continue
            if response.status_code in RETRY_STATUSES:
                failure = f"HTTP {response.status_code}"
                log.warning("Basispoort GET %s attempt %d: %s", path, attempt, failure)
                continue
            if response.status_code != 200:
                raise BasispoortError(f"GET {path}: HTTP {response.status_code}")
            try:
                return response.json()
            except ValueError:
                raise BasispoortError(f"GET {path}: answer is not JSON") from None
        raise BasispoortError(f"GET {path}: {failure} after {self.settings.attempts} attempts")

    def institution_ids(self) -> list[int]:
        ids = self.get("/")
        if not isinstance(ids, list) or not all(isinstance(i, int) for i in ids):
            raise BasispoortError("GET /: expected a list of institution ids")
        return ids

    def institution(self, institution_id: int) -> dict:
        return self.get(f"/{int(institution_id)}")

    def details(self, institution_id: int) -> dict:
        return self.get(f"/{int(institution_id)}/details")

    def groups(self, institution_id: int) -> dict:
        return self.get(f"/{int(institution_id)}/groepen")

    def pupils(self, institution_id: int) -> dict:
        return self.get(f"/{int(institution_id)}/leerlingen")

    def staff(self, institution_id: int) -> dict:
        return self.get(f"/{int(institution_id)}/staf")

    def fetch_snapshot(self, institution_id: int, today: dt.date | None = None) -> RosterSnapshot:
        """The institution's roster as a snapshot; BasispoortError / BasispoortDataError otherwise."""
        return to_snapshot(institution_id, self.details(institution_id), self.institution(institution_id), today)


# --- mapping (pure) ------------------------------------------------------------------------------

def _paths(messages: Any, prefix: str = "") -> list[str]:
    """marshmallow's nested error dict as 'leerlingen[3].persoonsgegevens: ...' lines."""
    if isinstance(messages, dict):
        out = []
        for key, value in messages.items():
            name = f"{prefix}[{key}]" if isinstance(key, int) else (f"{prefix}.{key}" if prefix else str(key))
            out.extend(_paths(value, name))
        return out
    if isinstance(messages, list) and all(isinstance(x, str) for x in messages):
        return [f"{prefix}: {' '.join(messages)}"]
    return [f"{prefix}: {messages}"]


def _load(schema, data: Any, where: str, school_id: str | None = None) -> dict:
    try:
        return schema.load(data)
    except ValidationError as exc:
        raise BasispoortDataError(_paths(exc.messages, where), school_id) from None


def _name(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def to_snapshot(institution_id: int, details_json: Any, institution_json: Any,
                today: dt.date | None = None) -> RosterSnapshot:
    """Map Basispoort's answers to a RosterSnapshot, checking what the EDEXML schema would check:
    unique keys, references to known groups, unique staff e-mail addresses."""
    today = today or dt.date.today()
    details = _load(schemas.BasispoortDetails(), details_json, "details")
    info = SchoolInfo(brin=details["brincode"], dependance=details["dependancecode"] or "00",
                      name=_name(details["naam"]), basispoort_id=str(institution_id))
    data = _load(schemas.BasispoortInstitution(), institution_json, "instelling", info.school_id)
    if not details["actief"] or not data["actief"]:
        merged = details["gefuseerdNaar"] or data["gefuseerdNaar"]
        raise BasispoortDataError([f"instelling {institution_id} is not active in Basispoort"
                                   + (f" (merged into {merged})" if merged else "")], info.school_id)
    snapshot = RosterSnapshot(school=info, source="basispoort")
    problems: list[str] = []

    for kind, composite in (("groepen", False), ("subgroepen", True)):
        for i, g in enumerate(data[kind]):
            key = g["lasKey"]
            if key in snapshot.groups:
                problems.append(f"instelling.{kind}[{i}].lasKey: duplicate group key {key!r}")
            snapshot.groups[key] = Group(key=key, name=_name(g["naam"]) or _name(g["omschrijving"]) or key,
                                         jaargroep=None if composite else _name(g["jaargroep"]), composite=composite)
    plain = {k for k, g in snapshot.groups.items() if not g.composite}
    composite_keys = {k for k, g in snapshot.groups.items() if g.composite}

    def check_refs(where: str, keys: list[str], allowed: set[str], what: str) -> None:
        for key in keys:
            if key not in allowed:
                problems.append(f"{where}: unknown {what} {key!r}")

    for i, p in enumerate(data["leerlingen"]):
        where = f"instelling.leerlingen[{i}]"
        key = p["lasKey"] or f"bp-{p['id']}"
        if key in snapshot.pupils:
            problems.append(f"{where}.lasKey: duplicate pupil key {key!r}")
        if p["groep"]:
            check_refs(f"{where}.groep", [p["groep"]], plain, "group")
        check_refs(f"{where}.subgroepen", p["subgroepen"], composite_keys, "subgroup")
        person = p["persoonsgegevens"]
        snapshot.pupils[key] = Pupil(
            key=key, last_name=_name(person["achternaam"]) or "", first_name=_name(person["voornaam"]),
            prefix=_name(person["voorvoegsel"]), jaargroep=_name(p["jaargroep"]), group=p["groep"] or None,
            composite_groups=tuple(sorted(set(p["subgroepen"]))), eckid=p["eckid"] or None)

    emails: dict[str, int] = {}
    for i, s in enumerate(data["medewerkers"]):
        where = f"instelling.medewerkers[{i}]"
        if s["einddatum"] is not None and s["einddatum"] < today:
            continue  # left the school: absent from the snapshot, so removed
        key = s["lasKey"] or f"bp-{s['id']}"
        if key in snapshot.staff:
            problems.append(f"{where}.lasKey: duplicate staff key {key!r}")
        check_refs(f"{where}.groepen", s["groepen"], plain, "group")
        check_refs(f"{where}.subgroepen", s["subgroepen"], composite_keys, "subgroup")
        email = (s["emailadres"] or "").strip().lower() or None
        if email:
            if email in emails:
                problems.append(f"{where}.emailadres: {email} is also the address of medewerkers[{emails[email]}]; "
                                f"school e-mail addresses must be unique")
            emails.setdefault(email, i)
        person = s["persoonsgegevens"]
        snapshot.staff[key] = Staff(
            key=key, last_name=_name(person["achternaam"]) or "", first_name=_name(person["voornaam"]),
            prefix=_name(person["voorvoegsel"]), email=email, roles=tuple(sorted(set(s["rollen"]))),
            groups=tuple(sorted(set(s["groepen"]) | set(s["subgroepen"]))), eckid=s["eckid"] or None)
    if problems:
        raise BasispoortDataError(problems[:50] + ([f"... and {len(problems) - 50} more problems"]
                                                   if len(problems) > 50 else []), info.school_id)
    return snapshot
