"""EDEXML 2.0 / 2.1 intake: safe parsing, XSD validation, and mapping to a RosterSnapshot.

Safety: files above a size limit are refused before parsing; a DOCTYPE (the carrier of
external entities and entity-expansion bombs; EDEXML never needs one) is refused; the
parser never resolves entities or touches the network.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from itertools import chain
from pathlib import Path

from lxml import etree

from services.roster.snapshot import Group, Pupil, RosterSnapshot, SchoolInfo, Staff
from shared import config

STANDARDS = config.PROJECT_ROOT / "shared" / "standards"
SUPPORTED_VERSIONS = {"2.0": "edexml-2.0", "2.1": "edexml-2.1"}
DEFAULT_MAX_BYTES = 50 * 1024 * 1024
MAX_KEY_LENGTH = 64
MAX_PROBLEMS = 50  # a broken 50 MB file must not print a million lines
_DECLARATION = re.compile(rb"<!(DOCTYPE|ENTITY)", re.IGNORECASE)


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
    # the whole file, not its head: comments may push a DOCTYPE far down (a regex over 50 MB takes ms)
    declaration = _DECLARATION.search(data)
    if declaration:
        line = data.count(b"\n", 0, declaration.start()) + 1
        raise EdexmlError([Problem(line, "DOCTYPE/ENTITY declarations are not allowed in EDEXML")])
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        raise EdexmlError([Problem(exc.lineno, f"malformed XML: {exc.msg}")]) from None
    if root.getroottree().docinfo.doctype:  # e.g. UTF-16, where the byte scan above cannot see it
        raise EdexmlError([Problem(1, "DOCTYPE/ENTITY declarations are not allowed in EDEXML")])
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
        raise EdexmlError(_capped([Problem(e.line, e.message) for e in schema.error_log]))
    if school.find("instellingsnummer") is not None:
        raise EdexmlError([Problem(school.find("instellingsnummer").sourceline,
                                   "Flemish EDEXML (instellingsnummer) is not supported: koppel serves Dutch "
                                   "schools identified by BRIN + dependancecode")])
    snapshot = _to_snapshot(root, school)
    problems = _long_keys(root) + _duplicate_emails(root)
    if problems:
        raise EdexmlError(_capped(problems))
    return snapshot


def _capped(problems: list[Problem]) -> list[Problem]:
    if len(problems) <= MAX_PROBLEMS:
        return problems
    return [*problems[:MAX_PROBLEMS], Problem(None, f"... and {len(problems) - MAX_PROBLEMS} more problems")]


def _long_keys(root: etree._Element) -> list[Problem]:
    """EDEXML allows keys of 256 characters; koppel's services store them in 64 (real LAS keys are
    numbers or GUIDs). Refused with the line, instead of failing at the database."""
    return [Problem(el.sourceline, f"<{el.tag}> key {el.get('key')[:80]!r} is longer than {MAX_KEY_LENGTH} characters")
            for el in chain(root.iterfind("groepen/*"), root.iterfind("leerlingen/leerling"),
                            root.iterfind("leerkrachten/leerkracht"))
            if len(el.get("key") or "") > MAX_KEY_LENGTH]


def _duplicate_emails(root: etree._Element) -> list[Problem]:
    """A teacher's school e-mail is their login and must be unique within the school (seed §2);
    two teachers with one address would share an account."""
    first_seen: dict[str, etree._Element] = {}
    problems = []
    for el in root.iterfind("leerkrachten/leerkracht"):
        email = (_text(el, "emailadres") or "").lower()
        if not email:
            continue
        other = first_seen.setdefault(email, el)
        if other is not el:
            line = el.find("emailadres").sourceline
            problems.append(Problem(line, f"leerkracht {el.get('key')}: emailadres {email} is also the address "
                                          f"of leerkracht {other.get('key')} (line {other.sourceline}); "
                                          f"school e-mail addresses must be unique"))
    return problems


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
        f, refs = _children(el)
        key = el.get("key")
        group = refs.get("groep")
        snapshot.pupils[key] = Pupil(
            key=key, last_name=f.get("achternaam") or "",  # a bare <roepnaam> is valid EDEXML
            first_name=f.get("roepnaam") or _first_word(f.get("voornamen")),
            prefix=f.get("voorvoegsel"), jaargroep=f.get("jaargroep"), group=group[0] if group else None,
            composite_groups=tuple(sorted(refs.get("samengestelde_groepen", ()))), eckid=el.get("eckid"))
    for el in root.iterfind("leerkrachten/leerkracht"):
        f, refs = _children(el)
        key = el.get("key")
        snapshot.staff[key] = Staff(
            key=key, last_name=f.get("achternaam") or "",
            first_name=f.get("roepnaam") or _first_word(f.get("voornamen")),
            prefix=f.get("voorvoegsel"), email=(f.get("emailadres") or "").lower() or None,
            roles=tuple(sorted(set(refs.get("rol", ())))), groups=tuple(sorted(refs.get("groepen", ()))),
            eckid=el.get("eckid"))
    return snapshot


def _children(el: etree._Element) -> tuple[dict[str, str | None], dict[str, list[str]]]:
    """One pass over a leerling/leerkracht: text fields by tag, and the repeated parts
    (`groep`, `samengestelde_groepen`, `groepen` keys; `rol` texts). Faster than a find() per field,
    which matters at national scale."""
    fields: dict[str, str | None] = {}
    refs: dict[str, list[str]] = {}
    for child in el:
        tag = child.tag
        if tag == "groep":
            refs["groep"] = [child.get("key")]
        elif tag in ("samengestelde_groepen", "groepen"):
            refs[tag] = [g.get("key") for g in child if isinstance(g.tag, str)]
        elif tag == "rol":
            if child.text and child.text.strip():
                refs.setdefault("rol", []).append(child.text.strip())
        elif isinstance(tag, str):
            text = (child.text or "").strip()
            fields[tag] = text or None
    return fields, refs


def _first_word(value: str | None) -> str | None:
    return value.split()[0] if value else None
