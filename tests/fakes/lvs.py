"""A fake LVS (pupil-monitoring system) that speaks UWLR 2.2 BrengLeerresultaten over real HTTP.

It validates what it receives the way a strict LVS would (SOAPAction, SOAP 1.1 envelope, the
`autorisatie` header and the `leerresultaten_verzoek` body against the published XSDs, with
their key/keyref rules), checks the authorisation key, records what it accepted, and answers
an empty `leerresultaten_bevestiging`. It can be told to fail: a SOAP fault, an HTTP 5xx, a
timeout (hangs, then hangs up), a dropped connection, "late" (accepts and records the batch
but answers only after the client gave up) or "slow" (waits, then answers as usual). It loads the schemas itself, so a
mistake in koppel's message building cannot hide behind shared code.

In tests: `with FakeLvs(keys={"sleutel-1"}) as lvs: ... lvs.url ...`.
As a process (benchmarks): `python -m tests.fakes.lvs --port 0 --keys a,b` prints its URL;
`GET /stats` answers JSON counts.
"""
from __future__ import annotations

import argparse
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from lxml import etree

FOLDER = Path(__file__).resolve().parents[2] / "shared" / "standards" / "uwlr-2.2"
SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
LR = "http://www.edustandaard.nl/leerresultaten/2/leerresultaten"
AUT = "http://www.edustandaard.nl/leerresultaten/2/autorisatie"

CONFIRMATION = (f'<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="{SOAP}"><soapenv:Body>'
                f'<lr:leerresultaten_bevestiging xmlns:lr="{LR}"/></soapenv:Body></soapenv:Envelope>').encode()


def fault(code: str, text: str) -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="{SOAP}"><soapenv:Body>'
            f'<soapenv:Fault><faultcode>soapenv:{code}</faultcode><faultstring>{text}</faultstring>'
            f'</soapenv:Fault></soapenv:Body></soapenv:Envelope>').encode()


_schema_lock = threading.Lock()
_schema = None


def schema() -> etree.XMLSchema:
    global _schema
    with _schema_lock:
        if _schema is None:
            wrapper = (f'<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">'
                       f'<xs:import namespace="{SOAP}" schemaLocation="SOAP_Envelope.xsd"/>'
                       f'<xs:import namespace="{AUT}" schemaLocation="UWLR_Autorisatie_v2p2.xsd"/>'
                       f'<xs:import namespace="{LR}" schemaLocation="UWLR_Leerresultaten_v2p2.xsd"/>'
                       f'</xs:schema>')
            parser = etree.XMLParser(no_network=True, resolve_entities=False)
            _schema = etree.XMLSchema(etree.fromstring(wrapper.encode(), parser, base_url=str(FOLDER) + "/"))
        return _schema


@dataclass
class Batch:
    """One accepted leerresultaten_verzoek."""
    brincode: str
    dependancecode: str
    schooljaar: str
    key: str
    klantcode: str
    klantnaam: str
    results: list[dict]        # {key, leerlingid, eckid, toetscode, score, afnamedatum}
    toetsen: dict[str, dict]   # toetscode -> {toetsnaam, hierarchie}


@dataclass
class Failure:
    kind: str                  # fault | server_fault | http_NNN | timeout | drop | late | slow
    times: int | None          # None: until recover()


@dataclass
class FakeLvsState:
    keys: set[str]
    batches: list[Batch] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)     # why a request was refused (invalid, key, ...)
    requests: int = 0
    failures: list[Failure] = field(default_factory=list)
    hang_seconds: float = 3.0
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state: FakeLvsState  # set on the subclass per server

    def log_message(self, *args):  # quiet
        pass

    def _answer(self, status: int, body: bytes, content_type="text/xml; charset=utf-8"):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/stats":
            with self.state.lock:
                stats = {"requests": self.state.requests, "batches": len(self.state.batches),
                         "results": sum(len(b.results) for b in self.state.batches),
                         "distinct_results": len({(b.brincode, b.dependancecode, r["key"])
                                                  for b in self.state.batches for r in b.results}),
                         "refused": len(self.state.refused)}
            self._answer(200, json.dumps(stats).encode(), "application/json")
        else:
            self._answer(404, b"")

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        state = self.state
        with state.lock:
            state.requests += 1
            failure = state.failures[0] if state.failures else None
            if failure and failure.times is not None:
                failure.times -= 1
                if failure.times <= 0:
                    state.failures.pop(0)
        if failure is not None and failure.kind == "slow":
            time.sleep(state.hang_seconds)  # then handle it like any request
            failure = None
        if failure is not None and failure.kind != "late":
            self._fail(failure.kind)
            return
        problem, batch = self._read(body)
        if problem is not None:
            with state.lock:
                state.refused.append(problem[1])
            self._answer(500, fault(*problem))
            return
        with state.lock:
            if batch.key not in state.keys:
                state.refused.append("key")
                refused = True
            else:
                state.batches.append(batch)
                refused = False
        if refused:
            self._answer(500, fault("Client.AutorisatieOngeldig", "Autorisatie is ongeldig"))
        elif failure is not None:  # "late": accepted and recorded, but the answer comes after hang_seconds
            time.sleep(state.hang_seconds)
            self._answer(200, CONFIRMATION)
        else:
            self._answer(200, CONFIRMATION)

    def _fail(self, kind: str):
        if kind == "fault":
            self._answer(500, fault("Client.OngeldigBericht", "Inhoud van het bericht is ongeldig"))
        elif kind == "server_fault":
            self._answer(500, fault("Server.TijdelijkNietBeschikbaar", "Server is tijdelijk niet beschikbaar"))
        elif kind.startswith("http_"):
            self._answer(int(kind[5:]), b"<html>upstream trouble</html>", "text/html")
        elif kind == "timeout":
            time.sleep(self.state.hang_seconds)
            self.close_connection = True
        elif kind == "drop":
            self.close_connection = True
        else:
            raise ValueError(kind)

    def _read(self, body: bytes):
        """(faultcode, reason) for a refused request, else (None, Batch)."""
        if self.headers.get("SOAPAction", "").strip('"') != "BrengLeerresultaten":
            return ("Client.OngeldigBericht", f"SOAPAction {self.headers.get('SOAPAction')!r}"), None
        if not (self.headers.get("Content-Type") or "").startswith("text/xml"):
            return ("Client.OngeldigBericht", f"Content-Type {self.headers.get('Content-Type')!r}"), None
        try:
            doc = etree.fromstring(body, etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False))
        except etree.XMLSyntaxError as exc:
            return ("Client.OngeldigBericht", f"not XML: {exc}"), None
        xsd = schema()
        if not xsd.validate(doc):
            return ("Client.OngeldigBericht", "XSD: " + "; ".join(e.message for e in xsd.error_log)), None
        auth = doc.find(f"{{{SOAP}}}Header/{{{AUT}}}autorisatie")
        request = doc.find(f"{{{SOAP}}}Body/{{{LR}}}leerresultaten_verzoek")
        if auth is None or request is None:
            return ("Client.OngeldigBericht", "autorisatie header or leerresultaten_verzoek missing"), None
        results = []
        for afname in request.iterfind(f"{{{LR}}}toetsafnames/{{{LR}}}toetsafname"):
            pupil = afname.findtext(f"{{{LR}}}leerlingid")
            eckid = afname.findtext(f"{{{LR}}}eckid")
            for r in afname.iterfind(f"{{{LR}}}resultaten/{{{LR}}}resultaat"):
                results.append({"key": r.get("key"), "leerlingid": pupil, "eckid": eckid,
                                "toetscode": r.findtext(f"{{{LR}}}toetscode"),
                                "score": int(r.findtext(f"{{{LR}}}score")),
                                "afnamedatum": r.findtext(f"{{{LR}}}afnamedatum")})
        toetsen = {t.findtext(f"{{{LR}}}toetscode"): {
            "toetsnaam": t.findtext(f"{{{LR}}}toetsnaam"),
            "hierarchie": [i.text for i in t.iterfind(f"{{{LR}}}toetshierarchie/{{{LR}}}ingang")]}
            for t in request.iterfind(f"{{{LR}}}toetsen/{{{LR}}}toets")}
        school = request.find(f"{{{LR}}}school")
        return None, Batch(
            brincode=school.findtext(f"{{{LR}}}brincode"), dependancecode=school.findtext(f"{{{LR}}}dependancecode"),
            schooljaar=school.findtext(f"{{{LR}}}schooljaar"),
            key=auth.findtext(f"{{{AUT}}}autorisatiesleutel"), klantcode=auth.findtext(f"{{{AUT}}}klantcode"),
            klantnaam=auth.findtext(f"{{{AUT}}}klantnaam"), results=results, toetsen=toetsen)


class FakeLvs:
    """The fake LVS on 127.0.0.1 and a free port, served from a thread."""

    def __init__(self, keys: set[str] | None = None, hang_seconds: float = 3.0):
        self.state = FakeLvsState(keys=set(keys or ()), hang_seconds=hang_seconds)
        handler = type("Handler", (_Handler,), {"state": self.state})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/uwlr/leerresultaten"

    def start(self) -> FakeLvs:
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> FakeLvs:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- steering -----------------------------------------------------------------------

    def fail(self, kind: str, times: int | None = 1) -> None:
        """Fail the next `times` requests (None: every request until `recover()`) with `kind`."""
        with self.state.lock:
            self.state.failures.append(Failure(kind, times))

    def recover(self) -> None:
        with self.state.lock:
            self.state.failures.clear()

    def accept_keys(self, *keys: str) -> None:
        with self.state.lock:
            self.state.keys = set(keys)

    # --- what it saw --------------------------------------------------------------------

    @property
    def batches(self) -> list[Batch]:
        with self.state.lock:
            return list(self.state.batches)

    @property
    def requests(self) -> int:
        return self.state.requests

    @property
    def refused(self) -> list[str]:
        with self.state.lock:
            return list(self.state.refused)

    def result_keys(self) -> list[str]:
        return [r["key"] for b in self.batches for r in b.results]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--keys", default="", help="comma-separated accepted authorisation keys")
    args = parser.parse_args()
    lvs = FakeLvs(keys={k for k in args.keys.split(",") if k})
    if args.port:
        lvs.server.server_close()
        handler = type("Handler", (_Handler,), {"state": lvs.state})
        lvs.server = ThreadingHTTPServer(("127.0.0.1", args.port), handler)
    schema()
    print(lvs.url, flush=True)
    lvs.server.serve_forever()


if __name__ == "__main__":
    main()
