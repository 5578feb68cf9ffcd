"""Pure rules of the Basispoort rights pusher: backoff, product mapping, redaction."""
import datetime as dt

from services.licensing import models as m
from services.licensing.basispoort import redact
from services.licensing.rights import backoff, product_ids


def test_backoff_doubles_with_jitter_and_stops_at_the_cap():
    for attempts, nominal in ((1, 5), (2, 10), (3, 20), (4, 40)):
        delays = [backoff(attempts, 5, 900) for _ in range(200)]
        assert nominal * 0.8 <= min(delays) and max(delays) <= nominal * 1.2
        assert len(set(delays)) > 1  # jitter: failed pushes do not retry in lockstep
    assert max(backoff(30, 5, 900) for _ in range(50)) <= 900 * 1.2


def test_method_is_a_slug_and_product_is_the_article_number():
    licence = m.Licence(method="De wereld in getallen 5", title="x", article_number="594863", isbn="9789402066098",
                        contract_number="0040344420000010", start_date=dt.date.today(), end_date=dt.date.today())
    assert product_ids(licence) == ("de-wereld-in-getallen-5", "594863")
    licence.article_number = None
    assert product_ids(licence)[1] == "9789402066098"
    licence.isbn = None
    assert product_ids(licence)[1] == "0040344420000010"


def test_redact_hides_eck_ids_in_error_texts():
    assert redact('{"eckId": "https://id.school/LL_abc123"} bad') == '{"eckId": "<eckid>"} bad'
    assert redact("user pseudo-42 unknown", ["pseudo-42"]) == "user <eckid> unknown"


def test_hosted_lika_reads_the_roster_clients_certificate_settings(monkeypatch):
    from services.licensing.basispoort import HostedLika

    monkeypatch.setenv("BASISPOORT_LIKA_URL", "https://rest.basispoort.example")
    monkeypatch.setenv("BASISPOORT_CERT_FILE", "/etc/koppel/client.pem")
    monkeypatch.setenv("BASISPOORT_KEY_FILE", "/etc/koppel/client.key")
    monkeypatch.setenv("BASISPOORT_CA_FILE", "/etc/koppel/basispoort-ca.pem")
    provider = HostedLika()
    provider.container = type("Container", (), {"config": {}})()
    provider.setup()
    assert provider.client.http.cert == ("/etc/koppel/client.pem", "/etc/koppel/client.key")
    assert provider.client.http.verify == "/etc/koppel/basispoort-ca.pem"
    monkeypatch.delenv("BASISPOORT_KEY_FILE")
    provider.setup()
    assert provider.client.http.cert == "/etc/koppel/client.pem"  # certificate and key in one PEM
