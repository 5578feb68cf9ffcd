"""HTTP transport of a BrengLeerresultaten message, and what the LVS's answer means for us."""
from __future__ import annotations

from dataclasses import dataclass

import requests

from services.results import uwlr

# UWLR fault codes (Edustandaard's afspraak, as used by LVS implementations) that mean the
# LVS does not accept who we say we are: the school must give us a new key.
KEY_FAULTS = ("Client.AutorisatieOngeldig", "Client.OngeldigeKlantIdentificatie")


@dataclass(frozen=True)
class Delivery:
    ok: bool
    failure: str | None = None  # one of shared.events.EXPORT_FAILURES
    error: str | None = None    # for people: what went wrong (may quote the LVS)


def interpret(status_code: int, body: bytes) -> Delivery:
    """What an HTTP answer of the LVS means: delivered, key rejected, or worth retrying."""
    answer = uwlr.parse_answer(body)
    if answer.is_fault:
        text = f"LVS fault {answer.faultcode}: {answer.faultstring}"[:1000]
        if answer.faultcode in KEY_FAULTS:
            return Delivery(False, "key_rejected", text)
        return Delivery(False, "lvs_fault", text)
    if status_code in (401, 403):
        return Delivery(False, "key_rejected", f"LVS answered HTTP {status_code}")
    if 200 <= status_code < 300 and answer.confirmed:
        return Delivery(True)
    if status_code >= 300:
        return Delivery(False, "http_error", f"LVS answered HTTP {status_code}")
    return Delivery(False, "bad_answer", f"LVS answered HTTP {status_code} without leerresultaten_bevestiging")


def send(http: requests.Session, url: str, message: bytes, timeout: float) -> Delivery:
    """POST the SOAP message; never raises for network trouble (that is a Delivery too)."""
    try:
        response = http.post(url, data=message, timeout=timeout, allow_redirects=False,
                             headers={"Content-Type": uwlr.CONTENT_TYPE, "SOAPAction": f'"{uwlr.SOAP_ACTION}"'})
    except requests.Timeout:
        return Delivery(False, "timeout", f"no answer from the LVS within {timeout:g} s")
    except requests.RequestException as exc:
        return Delivery(False, "network", f"could not reach the LVS: {exc}"[:500])
    return interpret(response.status_code, response.content)
