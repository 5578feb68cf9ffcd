"""UWLR 2.2 message building and validation against the real XSDs, and reading LVS answers."""
import datetime as dt

import pytest
from lxml import etree

from services.results import lvs_client, uwlr
from services.results.export import backoff, redact
from tests.fakes import lvs as fake

AUTH = uwlr.Authorisation("geheime-sleutel-123", "koppel", "Uitgeverij")
NOW = dt.datetime(2026, 12, 3, 10, 30, tzinfo=dt.UTC)


def result(i, code="SP-1", pupil="L1", eckid=None, score=7):
    return uwlr.Result(f"res-{i}", pupil, eckid, "Taal Actief 4", code, f"Spelling les {code}", score,
                       dt.date(2026, 11, 20))


def test_message_is_a_valid_soap_request_with_header_body_and_tests():
    results = [result(1, "SP-1", "L1", "https://ketenid.nl/201703/abc"), result(2, "SP-2", "L1"),
               result(3, "SP-1", "L2", score=0)]
    message = uwlr.build_request("12AB01", "2026-2027", results, AUTH, NOW)
    uwlr.validate(message)
    assert fake.schema().validate(etree.fromstring(message))  # the fake's own copy of the schemas agrees

    doc = etree.fromstring(message)
    ns = {"s": uwlr.NS_SOAP, "lr": uwlr.NS_LR, "a": uwlr.NS_AUT}
    assert doc.xpath("s:Header/a:autorisatie/a:autorisatiesleutel/text()", namespaces=ns) == ["geheime-sleutel-123"]
    assert doc.xpath("s:Header/a:autorisatie/a:klantcode/text()", namespaces=ns) == ["koppel"]
    req = doc.xpath("s:Body/lr:leerresultaten_verzoek", namespaces=ns)[0]
    assert req.xpath("lr:school/lr:brincode/text()", namespaces=ns) == ["12AB"]
    assert req.xpath("lr:school/lr:dependancecode/text()", namespaces=ns) == ["01"]
    assert req.xpath("lr:school/lr:aanmaakdatum/text()", namespaces=ns) == ["2026-12-03T10:30:00+00:00"]
    afnames = req.xpath("lr:toetsafnames/lr:toetsafname", namespaces=ns)
    assert [a.findtext(f"{{{uwlr.NS_LR}}}leerlingid") for a in afnames] == ["L1", "L2"]
    assert afnames[0].findtext(f"{{{uwlr.NS_LR}}}eckid") == "https://ketenid.nl/201703/abc"
    assert afnames[1].find(f"{{{uwlr.NS_LR}}}eckid") is None
    assert req.xpath(".//lr:resultaat/@key", namespaces=ns) == ["res-1", "res-2", "res-3"]
    assert req.xpath("lr:toetsen/lr:toets/lr:toetscode/text()", namespaces=ns) == ["SP-1", "SP-2"]
    assert req.xpath("lr:toetsen/lr:toets[1]/lr:toetshierarchie/lr:ingang[@niveau='1']/text()",
                     namespaces=ns) == ["Taal Actief 4"]


@pytest.mark.parametrize("mutate, expected", [
    (lambda m: m.replace(b'key="res-2"', b'key="res-1"'), "Duplicate key-sequence ['res-1']"),
    (lambda m: m.replace(b"<lr:toets><lr:toetscode>SP-2<", b"<lr:toets><lr:toetscode>XX<"),
     "No match found for key-sequence ['SP-2']"),
    (lambda m: m.replace(b"<lr:score>7</lr:score>", b"<lr:score>-1</lr:score>", 1), "tpScore"),
    (lambda m: m.replace(b"<aut:klantcode>koppel</aut:klantcode>", b""), "klantnaam"),
    (lambda m: m.replace(b"geheime-sleutel-123", b"x" * 65), "autorisatiesleutel"),
    (lambda m: m.replace(b"<lr:brincode>12AB</lr:brincode>", b"<lr:brincode>12ab</lr:brincode>"), "brincode"),
    (lambda m: m.replace(b"</soapenv:Body>", b"<x:extra xmlns:x='urn:x'/></soapenv:Body>"), "extra"),
    (lambda m: m[:-30], "malformed XML"),
])
def test_a_message_breaking_the_xsd_is_refused_with_where_and_what(mutate, expected):
    message = uwlr.build_request("12AB01", "2026-2027", [result(1, "SP-1"), result(2, "SP-2")], AUTH, NOW)
    with pytest.raises(uwlr.InvalidMessage) as err:
        uwlr.validate(mutate(message))
    assert expected in str(err.value)
    assert str(err.value).startswith("line ")


def test_school_year_turns_on_the_first_of_august():
    assert uwlr.school_year(dt.date(2026, 7, 31)) == "2025-2026"
    assert uwlr.school_year(dt.date(2026, 8, 1)) == "2026-2027"


def test_authorisation_repr_never_shows_the_key():
    assert "geheime" not in repr(AUTH)


@pytest.mark.parametrize("status, body, ok, failure", [
    (200, fake.CONFIRMATION, True, None),
    (500, fake.fault("Client.AutorisatieOngeldig", "Autorisatie is ongeldig"), False, "key_rejected"),
    (500, fake.fault("Client.OngeldigeKlantIdentificatie", "Klantidentificatie onjuist"), False, "key_rejected"),
    (500, fake.fault("Server.TijdelijkNietBeschikbaar", "later"), False, "lvs_fault"),
    (500, fake.fault("Client.OngeldigBericht", "nee"), False, "lvs_fault"),
    (403, b"forbidden", False, "key_rejected"),
    (503, b"<html>busy</html>", False, "http_error"),
    (404, b"", False, "http_error"),
    (200, b"<html>welcome</html>", False, "bad_answer"),
    (200, b"<soapenv:Envelope xmlns:soapenv='http://schemas.xmlsoap.org/soap/envelope/'><soapenv:Body/>"
          b"</soapenv:Envelope>", False, "bad_answer"),
])
def test_lvs_answers_are_interpreted(status, body, ok, failure):
    delivery = lvs_client.interpret(status, body)
    assert (delivery.ok, delivery.failure) == (ok, failure)


def test_the_fakes_answers_are_valid_soap():
    assert fake.schema().validate(etree.fromstring(fake.CONFIRMATION))
    assert fake.schema().validate(etree.fromstring(fake.fault("Client.AutorisatieOngeldig", "x")))


def test_backoff_doubles_and_is_capped():
    assert 0.8 <= backoff(1, 1.0, 60) <= 1.0
    assert 3.2 <= backoff(3, 1.0, 60) <= 4.0
    assert 48 <= backoff(30, 1.0, 60) <= 60


def test_redact_replaces_the_key_by_its_hint():
    assert redact("sleutel geheime-sleutel-123 onbekend", "geheime-sleutel-123") == "sleutel ••••••••-123 onbekend"
