"""Adapter for Basispoort's hosted licence API ("hosted lika"): method -> product -> users.

Paths and JSON as Basispoort publishes them (and as LeoniePhiline/basispoort-sync-client uses them):
    {base}/hosted-lika/management/lika/{identity code}/methode[/{method}]
    .../methode/{method}/product[/{product}]
    .../methode/{method}/product/{product}/gebruiker_eckid/addlist | removelist
      body {"gebruikers": [{"instellingId": <institution id>, "eckId": "<ECK iD>"}]}
Basispoort authenticates publishers with a TLS client certificate (BASISPOORT_CERT_FILE [+ BASISPOORT_KEY_FILE],
PEM; BASISPOORT_CA_FILE to verify it), the same settings as the roster's institutions client.
Response bodies may echo ECK iDs: errors keep the status and a redacted excerpt only.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import requests
from nameko.extensions import DependencyProvider
from nameko.timer import Timer

from shared import config

BASE_PATH = "/hosted-lika/management/lika"
RETRYABLE_STATUS = {408, 425, 429, 500, 502, 503, 504}
_ECKID = re.compile(r"https?://id\.school/[^\s\"'<>,}\]]+")


class LikaError(Exception):
    def __init__(self, message: str, *, status: int | None = None, retryable: bool = True):
        super().__init__(message)
        self.status = status
        self.retryable = retryable


@dataclass(frozen=True)
class Product:
    method_id: str
    method_name: str
    product_id: str
    product_name: str
    url: str


def redact(text: str, secrets: list[str] = ()) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "<eckid>")
    return _ECKID.sub("<eckid>", text)


class HostedLikaClient:
    def __init__(self, base_url: str, identity_code: str, *, cert: str | tuple[str, str] | None = None,
                 ca_file: str | None = None, timeout: float = 10.0):
        self.root = f"{base_url.rstrip('/')}{BASE_PATH}/{identity_code}"
        self.http = requests.Session()
        if cert:
            self.http.cert = cert
        if ca_file:
            self.http.verify = ca_file
        self.timeout = timeout

    def close(self) -> None:
        self.http.close()

    def _call(self, method: str, path: str, body: dict | None = None, secrets: list[str] = ()) -> dict | None:
        try:
            response = self.http.request(method, self.root + path, json=body, timeout=self.timeout)
        except requests.RequestException as exc:
            raise LikaError(f"Basispoort unreachable: {type(exc).__name__}") from None
        if response.status_code >= 400:
            excerpt = redact(response.text[:200], secrets).strip()
            raise LikaError(f"HTTP {response.status_code} from Basispoort on {method} {path.split('/gebruiker')[0]}"
                            + (f": {excerpt}" if excerpt else ""), status=response.status_code,
                            retryable=response.status_code in RETRYABLE_STATUS)
        return response.json() if response.content else None

    def ensure_product(self, product: Product) -> None:
        """Create the method and product when Basispoort does not know them yet."""
        method_path = f"/methode/{product.method_id}"
        try:
            self._call("GET", method_path)
        except LikaError as exc:
            if exc.status != 404:
                raise
            self._call("POST", "/methode", {"id": product.method_id, "naam": product.method_name, "code": None,
                                            "icon": None, "iconUrl": None, "url": None, "tags": []})
        try:
            self._call("GET", f"{method_path}/product/{product.product_id}")
        except LikaError as exc:
            if exc.status != 404:
                raise
            self._call("POST", f"{method_path}/product", {
                "id": product.product_id, "naam": product.product_name, "code": None, "icon": None,
                "iconUrl": None, "url": product.url, "tags": []})

    def grant(self, product: Product, users: list[dict]) -> None:
        """Add users ({"instellingId", "eckId"}) to the product; creates method/product on a 404."""
        path = f"/methode/{product.method_id}/product/{product.product_id}/gebruiker_eckid/addlist"
        secrets = [u["eckId"] for u in users]
        try:
            self._call("POST", path, {"gebruikers": users}, secrets)
        except LikaError as exc:
            if exc.status != 404:
                raise
            self.ensure_product(product)
            self._call("POST", path, {"gebruikers": users}, secrets)

    def revoke(self, product: Product, users: list[dict]) -> None:
        """Remove users from the product; a product Basispoort does not know has nobody to remove."""
        path = f"/methode/{product.method_id}/product/{product.product_id}/gebruiker_eckid/removelist"
        try:
            self._call("POST", path, {"gebruikers": users}, [u["eckId"] for u in users])
        except LikaError as exc:
            if exc.status != 404:
                raise


def setting(container_config: dict, name: str, default: str | None = None) -> str | None:
    """A setting from the nameko config, else the environment, else the default."""
    value = container_config.get(name)
    return str(value) if value not in (None, "") else config.setting(name, default or "") or default


class HostedLika(DependencyProvider):
    """Gives workers this provider: `client` (None when BASISPOORT_LIKA_URL is not set) and the push settings."""

    def setup(self):
        cfg = self.container.config
        self.url = setting(cfg, "BASISPOORT_LIKA_URL")
        self.identity_code = setting(cfg, "BASISPOORT_LIKA_IDENTITY_CODE", "koppel")
        self.product_url = setting(cfg, "BASISPOORT_PRODUCT_URL", "https://koppel.invalid/product/{product_id}")
        self.max_attempts = int(setting(cfg, "BASISPOORT_MAX_ATTEMPTS", "8"))
        self.base_delay = float(setting(cfg, "BASISPOORT_RETRY_BASE_SECONDS", "5"))
        self.max_delay = float(setting(cfg, "BASISPOORT_RETRY_MAX_SECONDS", "900"))
        # the same certificate settings as the roster's institutions client (one Basispoort identity)
        cert, key = setting(cfg, "BASISPOORT_CERT_FILE"), setting(cfg, "BASISPOORT_KEY_FILE")
        self.client = HostedLikaClient(self.url, self.identity_code, cert=(cert, key) if cert and key else cert,
                                       ca_file=setting(cfg, "BASISPOORT_CA_FILE"),
                                       timeout=float(setting(cfg, "BASISPOORT_TIMEOUT_SECONDS", "10"))) \
            if self.url else None

    @property
    def enabled(self) -> bool:
        return self.client is not None

    def stop(self):
        if self.client is not None:
            self.client.close()

    def get_dependency(self, worker_ctx):
        return self


class ConfiguredTimer(Timer):
    """A nameko timer whose interval comes from the config/environment (`name`), not the code."""

    def __init__(self, name: str, default: float, **kwargs):
        self.setting_name = name
        super().__init__(interval=default, **kwargs)

    def setup(self):
        self.interval = float(setting(self.container.config, self.setting_name, str(self.interval)))


configured_timer = ConfiguredTimer.decorator
