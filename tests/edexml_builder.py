"""Build EDEXML 2.1 documents that validate against the real XSD, for tests and benchmarks.

A school is given as plain data: groups {key: (name, jaargroep|None for composite)},
pupils {key: (group, [composite groups])}, teachers {key: [groups]}.
"""
from __future__ import annotations

from xml.sax.saxutils import quoteattr


def edexml(groups: dict, pupils: dict, teachers: dict, *, brin: str = "99ZZ", dependance: str = "00",
           schooljaar: str = "2026-2027", eckids: bool = True) -> bytes:
    out = ['<?xml version="1.0" encoding="UTF-8"?>', "<EDEX>", "<school>", f"<schooljaar>{schooljaar}</schooljaar>",
           f"<brincode>{brin}</brincode>", f"<dependancecode>{dependance}</dependancecode>",
           "<schoolkey>1</schoolkey>", "<aanmaakdatum>2026-09-01T08:00:00</aanmaakdatum>",
           "<auteur>koppel tests</auteur>", "<xsdversie>2.1</xsdversie>", "</school>", "<groepen>"]
    for key, (name, jaargroep) in groups.items():
        if jaargroep is None:
            out.append(f"<samengestelde_groep key={quoteattr(key)}><naam>{name}</naam></samengestelde_groep>")
        else:
            out.append(f"<groep key={quoteattr(key)}><naam>{name}</naam><jaargroep>{jaargroep}</jaargroep></groep>")
    out.append("</groepen><leerlingen>")
    for key, (group, composite) in pupils.items():
        eck = f" eckid={quoteattr('https://id.school/LL_' + key)}" if eckids else ""
        jaargroep = groups[group][1] if group else None
        out.append(f"<leerling key={quoteattr(key)}{eck}><achternaam>Leerling</achternaam><roepnaam>{key}</roepnaam>"
                   + (f"<jaargroep>{jaargroep}</jaargroep>" if jaargroep else "")
                   + (f"<groep key={quoteattr(group)}/>" if group else "")
                   + ("<samengestelde_groepen>" + "".join(f"<samengestelde_groep key={quoteattr(c)}/>"
                                                          for c in composite) + "</samengestelde_groepen>"
                      if composite else "")
                   + "</leerling>")
    out.append("</leerlingen><leerkrachten>")
    for key, teacher_groups in teachers.items():
        eck = f" eckid={quoteattr('https://id.school/LK_' + key)}" if eckids else ""
        refs = "".join(f"<samengestelde_groep key={quoteattr(g)}/>" if groups[g][1] is None
                       else f"<groep key={quoteattr(g)}/>" for g in teacher_groups)
        out.append(f"<leerkracht key={quoteattr(key)}{eck}><achternaam>Leerkracht</achternaam>"
                   f"<roepnaam>{key}</roepnaam><emailadres>{key.lower()}@school.example</emailadres>"
                   f"<rol>LRK</rol><groepen>{refs}</groepen></leerkracht>")
    out.append("</leerkrachten></EDEX>")
    return "\n".join(out).encode()
