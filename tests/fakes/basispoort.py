"""A fake Basispoort: the publisher REST API v2 for institutions ("Instellingen V2"), over real HTTP
or HTTPS with client certificates, in a thread of the test process.

It speaks the JSON of Basispoort as documented by the public client
LeoniePhiline/basispoort-sync-client (src/institutions/model.rs, client.rs):
  GET /rest/v2/instellingen/              -> [id, ...]
  GET /rest/v2/instellingen/{id}          -> {groepen, subgroepen, leerlingen, medewerkers, actief, ...}
  GET /rest/v2/instellingen/{id}/details  -> {naam, ..., brincode, dependancecode, schoolkey, actief, ..., metaResult}
  GET /rest/v2/instellingen/{id}/groepen  -> {groepen, subgroepen, metaResult}
  GET /rest/v2/instellingen/{id}/leerlingen -> {leerlingen, metaResult}
  GET /rest/v2/instellingen/{id}/staf     -> {medewerkers, metaResult}
Unknown institutions answer 404 with a JSON error body.
"""
from __future__ import annotations

import datetime as dt
import json
import re
import ssl
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from services.roster.snapshot import RosterSnapshot
from services.roster.synthetic import to_basispoort

BASE = "/rest/v2/instellingen"
_PATH = re.compile(rf"^{BASE}/?(?:(\d+)(?:/(details|groepen|leerlingen|staf))?)?/?$")


@dataclass(frozen=True)
class Tls:
    """PEM files of a test CA, a server certificate for 127.0.0.1 and client certificates."""
    ca: str
    server_cert: str
    server_key: str
    client_cert: str  # certificate and key in one PEM, as Basispoort issues them
    stranger_cert: str  # a client certificate from another CA: must be refused


def make_tls(folder: Path) -> Tls:
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = dt.datetime.now(dt.UTC)

    def name(cn):
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    def cert(subject, key, issuer, issuer_key, *, ca=False, server=False):
        builder = (x509.CertificateBuilder().subject_name(name(subject)).issuer_name(name(issuer))
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
                   .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        if server:
            builder = builder.add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]), critical=False)
            builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        elif not ca:
            builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        return builder.sign(issuer_key, hashes.SHA256())

    def pem_key(key):
        return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())

    def pem_cert(c):
        return c.public_bytes(serialization.Encoding.PEM)

    def new_key():
        return ec.generate_private_key(ec.SECP256R1())

    ca_key, other_ca_key, server_key, client_key, stranger_key = (new_key() for _ in range(5))
    ca = cert("Fake Basispoort CA", ca_key, "Fake Basispoort CA", ca_key, ca=True)
    files = {
        "ca.pem": pem_cert(ca),
        "server.pem": pem_cert(cert("127.0.0.1", server_key, "Fake Basispoort CA", ca_key, server=True)),
        "server.key": pem_key(server_key),
        "client.pem": pem_cert(cert("uitgever-koppel", client_key, "Fake Basispoort CA", ca_key))
        + pem_key(client_key),
        "stranger.pem": pem_cert(cert("stranger", stranger_key, "Other CA", other_ca_key)) + pem_key(stranger_key),
    }
    folder.mkdir(parents=True, exist_ok=True)
    for file, content in files.items():
        (folder / file).write_bytes(content)
    return Tls(*(str(folder / f) for f in ("ca.pem", "server.pem", "server.key", "client.pem", "stranger.pem")))


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # refused handshakes (the stranger's certificate) are expected in tests


class FakeBasispoort:
    META = {"mutationTimestamp": "2026-10-01T02:00:00Z", "generationTimestamp": "2026-10-01T02:00:00Z"}

    def __init__(self, tls: Tls | None = None):
        self.tls = tls
        self.institutions: dict[int, tuple[dict, dict]] = {}
        self.requests: list[tuple[str, str | None]] = []  # (path, client certificate CN)
        self.failures: dict[str, list[int]] = {}  # path -> statuses to answer before the real answer
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # --- arranging --------------------------------------------------------------------------

    def add(self, institution_id: int, details: dict, institution: dict) -> None:
        self.institutions[institution_id] = (details, institution)

    def add_school(self, institution_id: int, snapshot: RosterSnapshot) -> None:
        self.add(institution_id, *to_basispoort(snapshot, institution_id))

    def fail(self, path: str, *statuses: int) -> None:
        """Answer `path` (e.g. '/rest/v2/instellingen/7/details') with these statuses first."""
        self.failures[path] = list(statuses)

    def count(self, path: str) -> int:
        return sum(1 for p, _ in self.requests if p == path)

    # --- serving ----------------------------------------------------------------------------

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"{'https' if self.tls else 'http'}://{host}:{port}"

    def start(self) -> FakeBasispoort:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                peer = None
                if fake.tls:
                    subject = dict(x[0] for x in (self.connection.getpeercert() or {}).get("subject", ()))
                    peer = subject.get("commonName")
                path = self.path.split("?")[0]
                with fake._lock:
                    fake.requests.append((path, peer))
                    queued = fake.failures.get(path)
                    status = queued.pop(0) if queued else None
                if status:
                    return self._send(status, {"message": "temporarily unavailable"})
                status, body = fake.answer(path)
                self._send(status, body)

            def _send(self, status, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = _Server(("127.0.0.1", 0), Handler)
        if self.tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(self.tls.server_cert, self.tls.server_key)
            context.load_verify_locations(self.tls.ca)
            context.verify_mode = ssl.CERT_REQUIRED  # Basispoort authenticates publishers by certificate
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> FakeBasispoort:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def answer(self, path: str) -> tuple[int, object]:
        match = _PATH.match(path)
        if not match:
            return 404, {"message": f"no such resource {path}"}
        institution_id, part = match.groups()
        if institution_id is None:
            return 200, sorted(self.institutions)
        found = self.institutions.get(int(institution_id))
        if found is None:
            return 404, {"message": f"instelling {institution_id} not found"}
        details, institution = found
        if part == "details":
            return 200, details
        if part == "groepen":
            return 200, {"groepen": institution["groepen"], "subgroepen": institution["subgroepen"],
                         "metaResult": self.META}
        if part == "leerlingen":
            return 200, {"leerlingen": institution["leerlingen"], "metaResult": self.META}
        if part == "staf":
            return 200, {"medewerkers": institution["medewerkers"], "metaResult": self.META}
        return 200, institution
