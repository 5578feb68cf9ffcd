"""EDEXML 2.0 / 2.1 intake: safe parsing, XSD validation, and mapping to a RosterSnapshot.

Safety: files above a size limit are refused before parsing; a DOCTYPE (the carrier of
external entities and entity-expansion bombs; EDEXML never needs one) is refused; the
parser never resolves entities or touches the network.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from lxml import etree

from services.roster.snapshot import Group, Pupil, RosterSnapshot, SchoolInfo, Staff
from shared import config

STANDARDS = config.PROJECT_ROOT / "shared" / "standards"
SUPPORTED_VERSIONS = {"2.0": "edexml-2.0", "2.1": "edexml-2.1"}
DEFAULT_MAX_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True)
class Problem:
    line: int | None
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


class EdexmlError(Exception):
    """The file cannot be imported; `problems` says where and why (nothing was stored)."""

    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(map(str, problems)))
        self.problems = problems


@cache
def schema_for(version: str) -> etree.XMLSchema:
    folder = STANDARDS / SUPPORTED_VERSIONS[version]
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    return etree.XMLSchema(etree.parse(str(folder / "EDEXML.structuur.xsd"), parser))


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                           dtd_validation=False, huge_tree=False, remove_comments=True)


def parse_bytes(data: bytes, *, max_bytes: int | None = None) -> RosterSnapshot:
    limit = max_bytes if max_bytes is not None else int(config.setting("EDEXML_MAX_BYTES", str(DEFAULT_MAX_BYTES)))
    if len(data) > limit:
        raise EdexmlError([Problem(None, f"file is {len(data)} bytes, over the limit of {limit} bytes")])
    head = data[:4096]
    if re.search(rb"<!DOCTYPE|<!ENTITY", head, re.IGNORECASE):
        line = head[: re.search(rb"<!(DOCTYPE|ENTITY)", head, re.IGNORECASE).start()].count(b"\n") + 1
        raise EdexmlError([Problem(line, "DOCTYPE/ENTITY declarations are not allowed in EDEXML")])
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        raise EdexmlError([Problem(exc.lineno, f"malformed XML: {exc.msg}")]) from None
    if root.getroottree().docinfo.doctype:
        raise EdexmlError([Problem(1, "DOCTYPE declarations are not allowed in EDEXML")])
    return _validated_snapshot(root)


def parse_file(path: str | Path, *, max_bytes: int | None = None) -> RosterSnapshot:
    path = Path(path)
    limit = max_bytes if max_bytes is not None else int(config.setting("EDEXML_MAX_BYTES", str(DEFAULT_MAX_BYTES)))
    size = path.stat().st_size
    if size > limit:
        raise EdexmlError([Problem(None, f"file is {size} bytes, over the limit of {limit} bytes")])
    return parse_bytes(path.read_bytes(), max_bytes=limit)


def _validated_snapshot(root: etree._Element) -> RosterSnapshot:
    if root.tag != "EDEX":
        raise EdexmlError([Problem(root.sourceline, f"root element is <{root.tag}>, expected <EDEX>")])
    school = root.find("school")
    if school is None:
        raise EdexmlError([Problem(root.sourceline, "missing <school>")])
    version_el = school.find("xsdversie")
    version = (version_el.text or "").strip() if version_el is not None else ""
    if version not in SUPPORTED_VERSIONS:
        line = version_el.sourceline if version_el is not None else school.sourceline
        raise EdexmlError([Problem(line, f"unsupported EDEXML version {version or '(none)'}; "
                                         f"supported: {', '.join(SUPPORTED_VERSIONS)}")])
    schema = schema_for(version)
    if not schema.validate(root):
        raise EdexmlError([Problem(e.line, e.message) for e in schema.error_log])
    if school.find("instellingsnummer") is not None:
        raise EdexmlError([Problem(school.find("instellingsnummer").sourceline,
                                   "Flemish EDEXML (instellingsnummer) is not supported: koppel serves Dutch "
                                   "schools identified by BRIN + dependancecode")])
    return _to_snapshot(root, school)


def _text(el: etree._Element | None, name: str) -> str | None:
    if el is None:
        return None
    child = el.find(name)
    if child is None or child.text is None:
        return None
    value = child.text.strip()
    return value or None


def _check_schooljaar(school: etree._Element) -> str:
    el = school.find("schooljaar")
    first, second = (int(x) for x in el.text.strip().split("-"))
    if second != first + 1:
        raise EdexmlError([Problem(el.sourceline, f"schooljaar {el.text.strip()} is not two consecutive years")])
    return el.text.strip()


def _to_snapshot(root: etree._Element, school: etree._Element) -> RosterSnapshot:
    info = SchoolInfo(brin=_text(school, "brincode"), dependance=_text(school, "dependancecode") or "00",
                      name=None, schooljaar=_check_schooljaar(school))
    snapshot = RosterSnapshot(school=info, source="edexml")
    for el in root.iterfind("groepen/*"):
        composite = el.tag == "samengestelde_groep"
        key = el.get("key")
        snapshot.groups[key] = Group(key=key, name=_text(el, "naam"),
                                     jaargroep=None if composite else _text(el, "jaargroep"), composite=composite)
    for el in root.iterfind("leerlingen/leerling"):
        key = el.get("key")
        group_el = el.find("groep")
        snapshot.pupils[key] = Pupil(
            key=key, last_name=_text(el, "achternaam"),
            first_name=_text(el, "roepnaam") or _first_word(_text(el, "voornamen")),
            prefix=_text(el, "voorvoegsel"), jaargroep=_text(el, "jaargroep"),
            group=group_el.get("key") if group_el is not None else None,
            composite_groups=tuple(sorted(
                g.get("key") for g in el.iterfind("samengestelde_groepen/samengestelde_groep"))),
            eckid=el.get("eckid"),
        )
    for el in root.iterfind("leerkrachten/leerkracht"):
        key = el.get("key")
        roles = [r.text.strip() for r in el.iterfind("rol") if r.text]
        snapshot.staff[key] = Staff(
            key=key, last_name=_text(el, "achternaam"),
            first_name=_text(el, "roepnaam") or _first_word(_text(el, "voornamen")),
            prefix=_text(el, "voorvoegsel"), email=(_text(el, "emailadres") or "").lower() or None,
            roles=tuple(sorted(set(roles))),
            groups=tuple(sorted(g.get("key") for g in el.iterfind("groepen/*"))),
            eckid=el.get("eckid"),
        )
    return snapshot


def _first_word(value: str | None) -> str | None:
    return value.split()[0] if value else None
