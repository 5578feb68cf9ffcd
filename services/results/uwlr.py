"""UWLR 2.2 `BrengLeerresultaten`: build the SOAP 1.1 message, validate it, read the LVS's answer.

The message is validated as a whole (SOAP envelope, `autorisatie` header and
`leerresultaten_verzoek` body, with the body's key/keyref rules) against the published XSDs in
shared/standards/uwlr-2.2 before it is sent. Plain functions, no I/O: unit-testable.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache

from lxml import etree

from shared import config

FOLDER = config.PROJECT_ROOT / "shared" / "standards" / "uwlr-2.2"
NS_SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
NS_LR = "http://www.edustandaard.nl/leerresultaten/2/leerresultaten"
NS_AUT = "http://www.edustandaard.nl/leerresultaten/2/autorisatie"
SOAP_ACTION = "BrengLeerresultaten"
CONTENT_TYPE = "text/xml; charset=utf-8"
XSD_VERSION = "2.2"


@dataclass(frozen=True)
class Result:
    result_key: str
    pupil_key: str
    eckid: str | None
    method: str
    exercise_code: str
    exercise_name: str
    score: int
    taken_on: dt.date


@dataclass(frozen=True)
class Authorisation:
    key: str          # autorisatiesleutel: the school's secret from its LVS
    klantcode: str    # who calls: the publisher, as the LVS knows it
    klantnaam: str

    def __repr__(self) -> str:  # never print the key
        return f"Authorisation(klantcode={self.klantcode!r}, klantnaam={self.klantnaam!r})"


@dataclass(frozen=True)
class Answer:
    confirmed: bool
    faultcode: str | None = None
    faultstring: str | None = None

    @property
    def is_fault(self) -> bool:
        return self.faultcode is not None


class InvalidMessage(Exception):
    """The message does not match the XSDs; `problems` name the line and what is wrong."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


def school_year(day: dt.date) -> str:
    """Dutch school years run from 1 August: 2026-12-03 is in 2026-2027."""
    start = day.year if day.month >= 8 else day.year - 1
    return f"{start}-{start + 1}"


def _safe_parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


@cache
def envelope_schema() -> etree.XMLSchema:
    """The SOAP 1.1 envelope schema plus the UWLR header and body schemas its wildcards refer to
    (processContents="strict": the header and body content are validated, not skipped)."""
    wrapper = f"""<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">
      <xs:import namespace="{NS_SOAP}" schemaLocation="SOAP_Envelope.xsd"/>
      <xs:import namespace="{NS_AUT}" schemaLocation="UWLR_Autorisatie_v2p2.xsd"/>
      <xs:import namespace="{NS_LR}" schemaLocation="UWLR_Leerresultaten_v2p2.xsd"/>
    </xs:schema>"""
    doc = etree.fromstring(wrapper.encode(), _safe_parser(), base_url=str(FOLDER) + "/")
    return etree.XMLSchema(doc)


def validate(message: bytes) -> None:
    """Raise InvalidMessage unless `message` is a valid BrengLeerresultaten SOAP request."""
    try:
        doc = etree.fromstring(message, _safe_parser())
    except etree.XMLSyntaxError as exc:
        raise InvalidMessage([f"line {exc.lineno}: malformed XML: {exc.msg}"]) from None
    schema = envelope_schema()
    problems = []
    if not schema.validate(doc):
        problems = [f"line {e.line}: {e.message}" for e in schema.error_log]
    body = doc.find(f"{{{NS_SOAP}}}Body")
    if not problems and (body is None or body.find(f"{{{NS_LR}}}leerresultaten_verzoek") is None):
        problems = ["the SOAP body holds no leerresultaten_verzoek"]
    if not problems and doc.find(f"{{{NS_SOAP}}}Header/{{{NS_AUT}}}autorisatie") is None:
        problems = ["the SOAP header holds no autorisatie"]
    if problems:
        raise InvalidMessage(problems)


def _el(parent, ns: str, tag: str, text: str | None = None, **attrib) -> etree._Element:
    el = etree.SubElement(parent, f"{{{ns}}}{tag}", attrib)
    if text is not None:
        el.text = text
    return el


def build_request(school_id: str, schooljaar: str, results: list[Result], auth: Authorisation,
                  created_at: dt.datetime) -> bytes:
    """One school's results as a `leerresultaten_verzoek` in a SOAP 1.1 envelope, with the
    `toetsen` the results refer to (one per exercise code; the method as hierarchy level 1)."""
    envelope = etree.Element(f"{{{NS_SOAP}}}Envelope", nsmap={"soapenv": NS_SOAP})
    header = _el(envelope, NS_SOAP, "Header")
    autorisatie = etree.SubElement(header, f"{{{NS_AUT}}}autorisatie", nsmap={"aut": NS_AUT})
    _el(autorisatie, NS_AUT, "autorisatiesleutel", auth.key)
    _el(autorisatie, NS_AUT, "klantcode", auth.klantcode)
    _el(autorisatie, NS_AUT, "klantnaam", auth.klantnaam)
    body = _el(envelope, NS_SOAP, "Body")
    request = etree.SubElement(body, f"{{{NS_LR}}}leerresultaten_verzoek", nsmap={"lr": NS_LR})

    school = _el(request, NS_LR, "school")
    _el(school, NS_LR, "schooljaar", schooljaar)
    _el(school, NS_LR, "brincode", school_id[:4])
    _el(school, NS_LR, "dependancecode", school_id[4:])
    _el(school, NS_LR, "aanmaakdatum", created_at.astimezone(dt.UTC).replace(microsecond=0).isoformat())
    _el(school, NS_LR, "auteur", auth.klantnaam)
    _el(school, NS_LR, "xsdversie", XSD_VERSION)

    by_pupil: dict[str, list[Result]] = {}
    tests: dict[str, Result] = {}
    for r in results:
        by_pupil.setdefault(r.pupil_key, []).append(r)
        tests.setdefault(r.exercise_code, r)
    afnames = _el(request, NS_LR, "toetsafnames")
    for pupil_key, pupil_results in by_pupil.items():
        afname = _el(afnames, NS_LR, "toetsafname")
        _el(afname, NS_LR, "leerlingid", pupil_key)
        eckid = next((r.eckid for r in pupil_results if r.eckid), None)
        if eckid:
            _el(afname, NS_LR, "eckid", eckid)
        resultaten = _el(afname, NS_LR, "resultaten")
        for r in pupil_results:
            resultaat = _el(resultaten, NS_LR, "resultaat", key=r.result_key)
            _el(resultaat, NS_LR, "afnamedatum", r.taken_on.isoformat())
            _el(resultaat, NS_LR, "toetscode", r.exercise_code)
            _el(resultaat, NS_LR, "score", str(r.score))
    toetsen = _el(request, NS_LR, "toetsen")
    for code, r in tests.items():
        toets = _el(toetsen, NS_LR, "toets")
        _el(toets, NS_LR, "toetscode", code)
        _el(toets, NS_LR, "toetsnaam", r.exercise_name)
        hierarchy = _el(toets, NS_LR, "toetshierarchie")
        _el(hierarchy, NS_LR, "ingang", r.method, niveau="1")
    return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")


def parse_answer(body: bytes) -> Answer:
    """Read the LVS's answer: a `leerresultaten_bevestiging`, a SOAP fault, or something else
    (`confirmed=False` without faultcode)."""
    try:
        doc = etree.fromstring(body, _safe_parser())
    except etree.XMLSyntaxError:
        return Answer(confirmed=False)
    soap_body = doc.find(f"{{{NS_SOAP}}}Body") if doc.tag == f"{{{NS_SOAP}}}Envelope" else None
    if soap_body is None:
        return Answer(confirmed=False)
    fault = soap_body.find(f"{{{NS_SOAP}}}Fault")
    if fault is not None:
        code = (fault.findtext("faultcode") or "").strip()
        return Answer(confirmed=False, faultcode=code.rsplit(":", 1)[-1] or "Unknown",
                      faultstring=(fault.findtext("faultstring") or "").strip())
    return Answer(confirmed=soap_body.find(f"{{{NS_LR}}}leerresultaten_bevestiging") is not None)
