"""EDEXML intake against the real XSDs: the official examples, current school years, and bad input."""
import dataclasses

import pytest

from services.roster import edexml
from services.roster.diff import diff, removes_too_many_pupils
from shared.config import PROJECT_ROOT

STD = PROJECT_ROOT / "shared/standards"
EXAMPLE_21 = (STD / "edexml-2.1/EDEXML.Voorbeeld.2.1.xml").read_bytes()
EXAMPLE_20 = (STD / "edexml-2.0/EDEXML.Voorbeeld.2.0.xml").read_bytes()


def problems(data: bytes, **kw) -> list[str]:
    with pytest.raises(edexml.EdexmlError) as err:
        edexml.parse_bytes(data, **kw)
    return [str(p) for p in err.value.problems]


def test_official_example_gives_exact_counts():
    snap = edexml.parse_bytes(EXAMPLE_21)
    assert snap.school.school_id == "99ZZ00"
    assert sum(not g.composite for g in snap.groups.values()) == 5
    assert sum(g.composite for g in snap.groups.values()) == 3
    assert len(snap.pupils) == 3 and len(snap.staff) == 3
    wimpie = snap.pupils["00001"]
    assert (wimpie.first_name, wimpie.prefix, wimpie.last_name, wimpie.group) == ("Wimpie", "imp", "ie", "GRP4B")
    assert wimpie.composite_groups == ("sg1", "sg2")
    assert snap.pupils["00002"].first_name == "Ismaël"  # no roepnaam: first of voornamen
    assert snap.staff["LK1"].roles == ("TAL",) and snap.staff["LK2"].groups == ("001", "002", "sg1", "sg2", "sg3")


def test_nothing_outside_koppels_features_is_kept():
    flat = str(dataclasses.asdict(edexml.parse_bytes(EXAMPLE_21)))
    for secret in ("133456785", "2006-06-21", "6971VB", "2731", "MA"):
        assert secret not in flat


def test_edexml_20_imports_too():
    snap = edexml.parse_bytes(EXAMPLE_20)
    assert len(snap.groups) == 8 and len(snap.pupils) == 3


def test_current_school_year_imports_although_the_published_list_ends_in_2024():
    snap = edexml.parse_bytes(EXAMPLE_21.replace(b"2014-2015", b"2026-2027"))
    assert snap.school.schooljaar == "2026-2027"


def test_school_year_that_is_not_two_consecutive_years_is_refused():
    assert problems(EXAMPLE_21.replace(b"2014-2015", b"2026-2028")) == \
        ["line 15: schooljaar 2026-2028 is not two consecutive years"]


def test_unsupported_version_and_flemish_files_get_clear_errors():
    assert problems(EXAMPLE_21.replace(b"<xsdversie>2.1<", b"<xsdversie>1.03<")) == \
        ["line 22: unsupported EDEXML version 1.03; supported: 2.0, 2.1"]
    [msg] = problems((STD / "edexml-2.1/EDEXML.Voorbeeld.2.1-Vla.xml").read_bytes())
    assert "Flemish EDEXML (instellingsnummer) is not supported" in msg


def test_malformed_xml_says_where():
    [msg] = problems(EXAMPLE_21.replace(b"</groepen>", b"</groepn>"))
    assert msg.startswith("line 75: malformed XML")


def test_schema_violation_says_line_and_field():
    [msg] = problems(EXAMPLE_21.replace(b"<brincode>99ZZ</brincode>", b"<brincode>ZZ99</brincode>"))
    assert msg.startswith("line 17:") and "brincode" in msg


def test_dangling_group_key_is_refused():
    msgs = problems(EXAMPLE_21.replace(b'<groep key="GRP4B"/>', b'<groep key="GRP9Z"/>'))
    assert any("GRP9Z" in m and m.startswith("line 86:") for m in msgs), msgs


def test_duplicate_keys_are_refused():
    msgs = problems(EXAMPLE_21.replace(b'<leerling key="00002">', b'<leerling key="00001">'))
    assert any("00001" in m and m.startswith("line 94:") for m in msgs), msgs


@pytest.mark.parametrize("payload", [
    b'<?xml version="1.0"?>\n<!DOCTYPE EDEX [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n<EDEX>&x;</EDEX>',
    b'<?xml version="1.0"?>\n<!DOCTYPE EDEX [<!ENTITY x SYSTEM "http://127.0.0.1:9/x">]>\n<EDEX>&x;</EDEX>',
    b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">'
    b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;">]>\n<EDEX>&lol3;</EDEX>',
])
def test_entities_are_never_expanded_or_fetched(payload):
    assert problems(payload) == ["line 2: DOCTYPE/ENTITY declarations are not allowed in EDEXML"]


def test_file_over_the_size_limit_is_refused_before_parsing():
    [msg] = problems(EXAMPLE_21, max_bytes=1000)
    assert msg == f"file is {len(EXAMPLE_21)} bytes, over the limit of 1000 bytes"


def test_diff_is_exact():
    before = edexml.parse_bytes(EXAMPLE_21)
    assert diff(before, edexml.parse_bytes(EXAMPLE_21)).is_empty()
    moved = EXAMPLE_21.replace(b'<groep key="GRP4B"/>', b'<groep key="GRP4A"/>')
    left = moved.replace(b'<leerling key="00002">', b'<leerling key="00004">')
    change = diff(before, edexml.parse_bytes(left))
    assert [p.key for p in change.pupils.changed] == ["00001"]  # moved to another group
    assert change.pupils.removed == ["00002"] and [p.key for p in change.pupils.added] == ["00004"]
    assert change.counts()["groups"] == {"added": 0, "changed": 0, "removed": 0}


def test_mass_deletion_guard_threshold():
    before = edexml.parse_bytes(EXAMPLE_21)
    after = edexml.parse_bytes(EXAMPLE_21)
    del after.pupils["00002"]  # 1 of 3 pupils = 33% > 30%
    assert removes_too_many_pupils(before, diff(before, after), 0.30)
    assert not removes_too_many_pupils(before, diff(before, after), 0.34)
    assert not removes_too_many_pupils(None, diff(None, after), 0.30)
