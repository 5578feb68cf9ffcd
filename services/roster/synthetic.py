"""Realistic synthetic schools, for benchmarks, the fake Basispoort and demos (never real people).

A school has groups 1-8 (two parallel groups when it is large), a combination group where a
year is small, composite groups (e.g. "Plusklas"), pupils with Dutch names, teachers with
school e-mail addresses, one of them ICT coordinator. Deterministic for a given seed.
The same RosterSnapshot renders as EDEXML 2.1 (`to_edexml`) or as Basispoort JSON (`to_basispoort`).
"""
from __future__ import annotations

import dataclasses
import random
from xml.sax.saxutils import escape, quoteattr

from services.roster.snapshot import Group, Pupil, RosterSnapshot, SchoolInfo, Staff

FIRST_NAMES = ("Daan", "Emma", "Sem", "Julia", "Lucas", "Mila", "Levi", "Tess", "Finn", "Sophie", "Noah", "Zoë",
               "Milan", "Sara", "Jesse", "Nora", "Bram", "Evi", "Luuk", "Saar", "Thijs", "Lotte", "Ruben", "Fleur",
               "Mohammed", "Yara", "Ayoub", "Noor", "Sven", "Liv", "Gijs", "Femke", "Ilias", "Lieke", "Joep",
               "Anouk", "Mees", "Isa", "Stijn", "Roos", "Ismaël", "Fenna", "Teun", "Ilse", "Hidde", "Janneke")
LAST_NAMES = (("", "Jansen"), ("de", "Vries"), ("van den", "Berg"), ("van", "Dijk"), ("", "Bakker"),
              ("", "Visser"), ("", "Smit"), ("", "Meijer"), ("de", "Boer"), ("", "Mulder"), ("de", "Groot"),
              ("", "Bos"), ("", "Vos"), ("", "Peters"), ("", "Hendriks"), ("van", "Leeuwen"), ("", "Dekker"),
              ("", "Brouwer"), ("de", "Wit"), ("", "Dijkstra"), ("", "Smits"), ("de", "Graaf"), ("van der", "Meer"),
              ("van der", "Linden"), ("", "Kok"), ("", "Jacobs"), ("de", "Haan"), ("", "Vermeulen"),
              ("van den", "Heuvel"), ("van der", "Veen"), ("van 't", "Hof"), ("", "Yılmaz"), ("El", "Amrani"),
              ("", "Kaya"), ("", "Bouzid"), ("", "Nguyen"), ("", "Postma"), ("ter", "Horst"))
SCHOOL_WORDS = ("De Regenboog", "De Vlinder", "Het Kompas", "De Wereldwijzer", "De Springplank", "Klavertje Vier",
                "De Zonnewijzer", "Het Palet", "De Kameleon", "De Bron", "Het Baken", "De Ark", "De Windroos")
PLACES = ("Utrecht", "Zwolle", "Tilburg", "Leiden", "Deventer", "Alkmaar", "Assen", "Venlo", "Goes", "Delft")


def brin_for(index: int) -> str:
    """A syntactically valid, unique BRIN (\\d{2}[A-Z]{2}) for index 0 .. 67,599."""
    number, letters = divmod(index, 26 * 26)
    return f"{number % 100:02d}{chr(65 + letters // 26)}{chr(65 + letters % 26)}"


def school(index: int, pupils: int = 220, *, seed: int = 0, schooljaar: str = "2026-2027") -> RosterSnapshot:
    """School number `index` (BRIN from the index, dependance 00) with about `pupils` pupils."""
    rng = random.Random(seed * 1_000_003 + index)
    brin = brin_for(index)
    info = SchoolInfo(brin=brin, dependance="00", schooljaar=schooljaar,
                      name=f"{rng.choice(SCHOOL_WORDS)} {rng.choice(PLACES)}")
    snap = RosterSnapshot(school=info, source="edexml")
    per_year = max(1, pupils // 8)
    parallel = 2 if per_year > 30 else 1
    group_of_year: dict[int, list[str]] = {}
    for year in range(1, 9):
        keys = []
        for p in range(parallel):
            suffix = "AB"[p] if parallel > 1 else ""
            key = f"G{year}{suffix}"
            snap.groups[key] = Group(key, f"Groep {year}{suffix}", str(year))
            keys.append(key)
        group_of_year[year] = keys
    if parallel == 1:  # small years share a combination group "Groep 1/2" (jaargroep C)
        for key in group_of_year[1] + group_of_year[2]:
            del snap.groups[key]
        snap.groups["G12"] = Group("G12", "Groep 1/2", "C")
        group_of_year[1] = group_of_year[2] = ["G12"]
    snap.groups["SG-PLUS"] = Group("SG-PLUS", "Plusklas", None, composite=True)
    snap.groups["SG-LEZEN"] = Group("SG-LEZEN", "Leesclub", None, composite=True)

    for n in range(pupils):
        year = 1 + n * 8 // pupils
        prefix, last = rng.choice(LAST_NAMES)
        composite = tuple(sorted(k for k, share in (("SG-PLUS", 0.08), ("SG-LEZEN", 0.1)) if rng.random() < share))
        key = f"{index:05d}{n:05d}"
        snap.pupils[key] = Pupil(key=key, last_name=last, first_name=rng.choice(FIRST_NAMES), prefix=prefix or None,
                                 jaargroep=str(year), group=rng.choice(group_of_year[year]),
                                 composite_groups=composite, eckid=f"https://id.school/LL_{index}_{n}_{rng.getrandbits(48):x}")

    domain = f"{brin.lower()}.school.example"
    plain_groups = [k for k, g in snap.groups.items() if not g.composite]
    for n, group_key in enumerate(plain_groups + ["SG-PLUS", "IB", "ICT"]):
        prefix, last = rng.choice(LAST_NAMES)
        first = rng.choice(FIRST_NAMES)
        roles: tuple[str, ...] = ("LRK",)
        groups: tuple[str, ...] = (group_key,) if group_key in snap.groups else ()
        if group_key == "IB":
            roles = ("IB",)
        elif group_key == "ICT":  # the ICT coordinator also teaches a group
            roles, groups = ("ICT", "LRK"), (plain_groups[-1],)
        key = f"LK{n + 1:03d}"
        local = f"{first[0]}.{(prefix + last).replace(' ', '').replace(chr(39), '')}{n}".lower()
        snap.staff[key] = Staff(key=key, last_name=last, first_name=first, prefix=prefix or None,
                                email=f"{local}@{domain}", roles=roles, groups=tuple(sorted(groups)))
    return snap


def with_changes(snap: RosterSnapshot, fraction: float, *, seed: int = 1) -> RosterSnapshot:
    """A copy where `fraction` of the pupils changed: a third move group, a third leave and are
    replaced by newcomers, a third change name; everything else identical."""
    rng = random.Random(seed)
    out = RosterSnapshot(school=snap.school, groups=dict(snap.groups), pupils=dict(snap.pupils),
                         staff=dict(snap.staff), source=snap.source)
    n = max(1, round(len(snap.pupils) * fraction))
    keys = rng.sample(sorted(snap.pupils), n)
    for i, key in enumerate(keys):
        pupil = out.pupils[key]
        if i % 3 == 0:
            others = [k for k, g in snap.groups.items() if not g.composite and k != pupil.group]
            out.pupils[key] = dataclasses.replace(pupil, group=rng.choice(others))
        elif i % 3 == 1:
            del out.pupils[key]
            new_key = f"N{key}"
            out.pupils[new_key] = dataclasses.replace(pupil, key=new_key, eckid=None,
                                                      first_name=rng.choice(FIRST_NAMES))
        else:
            out.pupils[key] = dataclasses.replace(pupil, last_name=pupil.last_name + "-" + rng.choice(LAST_NAMES)[1])
    return out


def _el(tag: str, text: str | None) -> str:
    return f"<{tag}>{escape(text)}</{tag}>" if text else ""


def to_edexml(snap: RosterSnapshot) -> bytes:
    """EDEXML 2.1 that validates against the standard's XSD."""
    info = snap.school
    parts = ['<?xml version="1.0" encoding="UTF-8"?>\n<EDEX>\n<school>',
             _el("schooljaar", info.schooljaar or "2026-2027"), _el("brincode", info.brin),
             _el("dependancecode", info.dependance), _el("schoolkey", f"{info.brin}{info.dependance}"),
             "<aanmaakdatum>2026-10-01T06:00:00</aanmaakdatum>", _el("auteur", "koppel synthetic"),
             "<xsdversie>2.1</xsdversie></school>\n<groepen>\n"]
    for g in snap.groups.values():
        if g.composite:
            parts.append(f"<samengestelde_groep key={quoteattr(g.key)}>{_el('naam', g.name)}</samengestelde_groep>\n")
        else:
            parts.append(f"<groep key={quoteattr(g.key)}>{_el('naam', g.name)}"
                         f"{_el('jaargroep', g.jaargroep)}</groep>\n")
    parts.append("</groepen>\n<leerlingen>\n")
    for p in snap.pupils.values():
        eck = f" eckid={quoteattr(p.eckid)}" if p.eckid else ""
        composite = "".join(f"<samengestelde_groep key={quoteattr(k)}/>" for k in p.composite_groups)
        parts.append(
            f"<leerling key={quoteattr(p.key)}{eck}>{_el('achternaam', p.last_name)}{_el('voorvoegsel', p.prefix)}"
            f"{_el('roepnaam', p.first_name)}<geboortedatum>2016-05-04</geboortedatum>{_el('jaargroep', p.jaargroep)}"
            + (f"<groep key={quoteattr(p.group)}/>" if p.group else "")
            + (f"<samengestelde_groepen>{composite}</samengestelde_groepen>" if composite else "")
            + "</leerling>\n")
    parts.append("</leerlingen>\n<leerkrachten>\n")
    for s in snap.staff.values():
        eck = f" eckid={quoteattr(s.eckid)}" if s.eckid else ""
        groups = "".join(
            f"<{'samengestelde_groep' if snap.groups[k].composite else 'groep'} key={quoteattr(k)}/>" for k in s.groups)
        parts.append(
            f"<leerkracht key={quoteattr(s.key)}{eck}>{_el('achternaam', s.last_name)}{_el('voorvoegsel', s.prefix)}"
            f"{_el('roepnaam', s.first_name)}{_el('emailadres', s.email)}" + "".join(_el("rol", r) for r in s.roles)
            + (f"<groepen>{groups}</groepen>" if groups else "") + "</leerkracht>\n")
    parts.append("</leerkrachten>\n</EDEX>\n")
    return "".join(parts).encode("utf-8")


BASISPOORT_ROLES = {"ICT": "ICTCoordinator", "LRK": "Leerkracht", "IB": "IBRTer"}


def to_basispoort(snap: RosterSnapshot, institution_id: int) -> tuple[dict, dict]:
    """(details, institution) as Basispoort's `/details` and `/{id}` answer them."""
    meta = {"mutationTimestamp": "2026-10-01T02:00:00Z", "generationTimestamp": "2026-10-01T02:00:00Z"}
    info = snap.school
    details = {"naam": info.name, "straat": "Schoolstraat", "huisnummer": "1", "postcode": "1234AB",
               "woonplaats": "Utrecht", "brincode": info.brin, "dependancecode": info.dependance,
               "schoolkey": f"{info.brin}{info.dependance}", "instellingRef": f"ref{institution_id}",
               "bestuurscode": "12345", "actief": True, "gefuseerdNaar": None, "metaResult": meta}

    def person(x):
        return {"achternaam": x.last_name, "voornaam": x.first_name, "voorvoegsel": x.prefix,
                "voorletters": (x.first_name or "?")[0] + "."}

    pupils = [{"id": institution_id * 100_000 + i, "eckid": p.eckid, "lasKey": p.key, "persoonsgegevens": person(p),
               "jaargroep": p.jaargroep, "groep": p.group, "subgroepen": list(p.composite_groups)}
              for i, p in enumerate(snap.pupils.values())]
    staff = [{"id": institution_id * 100_000 + 90_000 + i, "eckid": s.eckid, "lasKey": s.key,
              "persoonsgegevens": person(s), "emailadres": s.email, "einddatum": None,
              "rollen": sorted({BASISPOORT_ROLES.get(r, r) for r in s.roles}),
              "groepen": [k for k in s.groups if not snap.groups[k].composite],
              "subgroepen": [k for k in s.groups if snap.groups[k].composite]}
             for i, s in enumerate(snap.staff.values())]
    institution = {
        "groepen": [{"lasKey": g.key, "naam": g.name, "jaargroep": g.jaargroep, "omschrijving": None}
                    for g in snap.groups.values() if not g.composite],
        "subgroepen": [{"lasKey": g.key, "naam": g.name, "jaargroep": None, "omschrijving": None}
                       for g in snap.groups.values() if g.composite],
        "leerlingen": pupils, "medewerkers": staff, "actief": True, "gefuseerdNaar": None, "metaResult": meta}
    return details, institution
