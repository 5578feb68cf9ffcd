"""Pure roster rules: Basispoort JSON mapping, the schedule's clock, the synthetic schools, more bad EDEXML."""
import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from services.roster import basispoort, edexml, schedule, synthetic
from services.roster.diff import diff
from shared.config import PROJECT_ROOT

AMS = ZoneInfo("Europe/Amsterdam")
EXAMPLE_21 = (PROJECT_ROOT / "shared/standards/edexml-2.1/EDEXML.Voorbeeld.2.1.xml").read_bytes()


# --- Basispoort mapping --------------------------------------------------------------------

def basispoort_school(pupils=12):
    snap = synthetic.school(9, pupils=pupils)
    return snap, *synthetic.to_basispoort(snap, 123)


def data_problems(details, institution, **kw):
    with pytest.raises(basispoort.BasispoortDataError) as err:
        basispoort.to_snapshot(123, details, institution, **kw)
    return err.value.problems


def test_basispoort_json_maps_to_the_same_snapshot_as_edexml():
    snap, details, institution = basispoort_school()
    mapped = basispoort.to_snapshot(123, details, institution)
    from_xml = edexml.parse_bytes(synthetic.to_edexml(snap))
    assert mapped.groups == from_xml.groups and mapped.pupils == from_xml.pupils
    assert mapped.school.school_id == from_xml.school.school_id and mapped.school.basispoort_id == "123"
    assert [s.email for s in mapped.staff.values()] == [s.email for s in from_xml.staff.values()]
    assert diff(from_xml, mapped).pupils.counts() == {"added": 0, "changed": 0, "removed": 0}


def test_basispoort_fields_koppel_does_not_use_are_dropped():
    snap, details, institution = basispoort_school()
    institution["leerlingen"][0]["geboortedatum"] = "2016-01-01"
    institution["leerlingen"][0]["persoonsgegevens"]["voorletters"] = "Q."
    flat = str(basispoort.to_snapshot(123, details, institution))
    assert "2016-01-01" not in flat and "Schoolstraat" not in flat and "Q." not in flat


def test_staff_without_laskey_get_a_basispoort_key_and_ended_staff_are_left_out():
    snap, details, institution = basispoort_school()
    institution["medewerkers"][0]["lasKey"] = None
    institution["medewerkers"][1]["einddatum"] = "2026-01-31"
    mapped = basispoort.to_snapshot(123, details, institution, today=dt.date(2026, 2, 1))
    assert f"bp-{institution['medewerkers'][0]['id']}" in mapped.staff
    assert institution["medewerkers"][1]["lasKey"] not in mapped.staff
    kept = basispoort.to_snapshot(123, details, institution, today=dt.date(2026, 1, 31))
    assert institution["medewerkers"][1]["lasKey"] in kept.staff  # still there on their last day


def test_basispoort_problems_say_where():
    snap, details, institution = basispoort_school()
    institution["leerlingen"][2]["subgroepen"] = ["G3"]  # a group, not a subgroup
    institution["leerlingen"][5]["lasKey"] = institution["leerlingen"][4]["lasKey"]
    institution["medewerkers"][3]["groepen"] = ["NOPE"]
    institution["medewerkers"][4]["emailadres"] = institution["medewerkers"][2]["emailadres"].upper()
    assert data_problems(details, institution) == [
        "instelling.leerlingen[2].subgroepen: unknown subgroup 'G3'",
        f"instelling.leerlingen[5].lasKey: duplicate pupil key {institution['leerlingen'][4]['lasKey']!r}",
        "instelling.medewerkers[3].groepen: unknown group 'NOPE'",
        f"instelling.medewerkers[4].emailadres: {institution['medewerkers'][2]['emailadres']} is also the address "
        "of medewerkers[2]; school e-mail addresses must be unique",
    ]
    snap, details, institution = basispoort_school()
    institution["subgroepen"].append({"lasKey": "G8", "naam": "x"})
    assert data_problems(details, institution)[0] == "instelling.subgroepen[2].lasKey: duplicate group key 'G8'"


def test_basispoort_schema_violations_say_where():
    snap, details, institution = basispoort_school()
    assert data_problems({**details, "brincode": "XX"}, institution) == ["details.brincode: must be a BRIN like 99ZZ"]
    institution["groepen"][1]["lasKey"] = None
    institution["leerlingen"][0]["id"] = "abc"
    assert data_problems(details, institution) == ["instelling.groepen[1].lasKey: Field may not be null.",
                                                   "instelling.leerlingen[0].id: Not a valid integer."]
    with pytest.raises(basispoort.BasispoortDataError) as err:
        basispoort.to_snapshot(123, details, [])
    assert err.value.school_id == snap.school.school_id


# --- schedule ------------------------------------------------------------------------------

def local(*args):
    return dt.datetime(*args, tzinfo=AMS).astimezone(dt.UTC)


@pytest.mark.parametrize(("now", "expected"), [
    (local(2026, 12, 3, 2, 29), None),
    (local(2026, 12, 3, 2, 30), dt.date(2026, 12, 3)),
    (local(2026, 12, 3, 6, 29), dt.date(2026, 12, 3)),
    (local(2026, 12, 3, 6, 30), None),
    (local(2026, 12, 3, 14, 0), None),
])
def test_nightly_sync_is_due_from_its_time_until_the_window_closes(now, expected):
    assert schedule.due_run_date(now, dt.time(2, 30), AMS, dt.timedelta(hours=4)) == expected


def test_a_window_across_midnight_belongs_to_the_evening_it_started():
    at, window = dt.time(23, 30), dt.timedelta(hours=4)
    assert schedule.due_run_date(local(2026, 12, 4, 1, 0), at, AMS, window) == dt.date(2026, 12, 3)
    assert schedule.due_run_date(local(2026, 12, 3, 23, 45), at, AMS, window) == dt.date(2026, 12, 3)


def test_the_time_is_local_also_across_daylight_saving():
    summer = dt.datetime(2026, 7, 1, 0, 30, tzinfo=dt.UTC)  # 02:30 in Amsterdam (UTC+2)
    winter = dt.datetime(2026, 12, 1, 1, 30, tzinfo=dt.UTC)  # 02:30 in Amsterdam (UTC+1)
    for now in (summer, winter):
        assert schedule.due_run_date(now, dt.time(2, 30), AMS, dt.timedelta(minutes=1)) == now.date()


@pytest.mark.parametrize("value", ["2:30pm", "25:00", "0230", ""])
def test_a_bad_sync_time_names_the_setting(value):
    with pytest.raises(ValueError, match="ROSTER_SYNC_AT must be HH:MM"):
        schedule.parse_time(value)


# --- synthetic schools ---------------------------------------------------------------------

def test_synthetic_schools_are_valid_edexml_and_realistic():
    snap = synthetic.school(1234, pupils=600)
    parsed = edexml.parse_bytes(synthetic.to_edexml(snap))  # validates against the real XSD
    assert parsed.pupils == snap.pupils and parsed.staff == snap.staff and parsed.groups == snap.groups
    plain = [g for g in snap.groups.values() if not g.composite]
    assert sorted({g.jaargroep for g in plain}) == [str(y) for y in range(1, 9)] and len(plain) == 16
    assert sum(s.is_ict_coordinator for s in snap.staff.values()) == 1
    assert all(s.email and "@" in s.email for s in snap.staff.values())
    small = synthetic.school(5, pupils=150)
    assert small.groups["G12"].jaargroep == "C"  # a combination group where years are small
    assert len({synthetic.brin_for(i) for i in range(7000)}) == 7000


def test_synthetic_changes_touch_exactly_the_requested_share():
    snap = synthetic.school(1, pupils=300)
    changed = synthetic.with_changes(snap, 0.01)
    counts = diff(snap, changed).pupils.counts()
    assert counts == {"added": 1, "changed": 2, "removed": 1}


# --- more bad EDEXML -----------------------------------------------------------------------

def problems(data: bytes) -> list[str]:
    with pytest.raises(edexml.EdexmlError) as err:
        edexml.parse_bytes(data)
    return [str(p) for p in err.value.problems]


def test_a_doctype_hidden_behind_a_long_comment_is_still_refused():
    data = b'<?xml version="1.0"?>\n<!--' + b"x" * 10_000 + b'-->\n<!DOCTYPE EDEX [<!ENTITY x "y">]>\n<EDEX>&x;</EDEX>'
    assert problems(data) == ["line 3: DOCTYPE/ENTITY declarations are not allowed in EDEXML"]


def test_a_doctype_in_utf16_is_refused_without_expanding_anything():
    data = ('<?xml version="1.0" encoding="UTF-16"?>\n<!DOCTYPE EDEX [<!ENTITY a "aaaaaaaaaa">'
            '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>\n<EDEX>&b;</EDEX>').encode("utf-16")
    assert problems(data) == ["line 1: DOCTYPE/ENTITY declarations are not allowed in EDEXML"]


def test_keys_longer_than_koppel_stores_are_refused_with_their_line():
    long_key = "K" * 65
    data = EXAMPLE_21.replace(b'<leerling key="00002">', f'<leerling key="{long_key}">'.encode())
    assert problems(data) == [f"line 94: <leerling> key {long_key!r} is longer than 64 characters"]


def test_a_flood_of_problems_is_capped():
    data = EXAMPLE_21.replace(b"</leerlingen>", b"<leerling key='x'><bad/></leerling>" * 120 + b"</leerlingen>")
    found = problems(data)
    assert len(found) == 51 and found[-1].startswith("... and ") and found[-1].endswith("more problems")


# --- concurrent fetching -------------------------------------------------------------------

class SlowClient:
    """Stands in for the HTTP client: records how many fetches overlap."""

    def __init__(self):
        self.running = self.most = 0

    def fetch_snapshot(self, institution_id, today=None):
        import eventlet

        self.running += 1
        self.most = max(self.most, self.running)
        eventlet.sleep(0.01)
        self.running -= 1
        if institution_id == 3:
            raise basispoort.BasispoortError("GET /3: HTTP 500 after 4 attempts")
        return f"snapshot {institution_id}"


@pytest.mark.parametrize("green", [True, False])
def test_fetching_overlaps_but_results_keep_their_order(green):
    from services.roster.pull import fetch_concurrently

    client = SlowClient()
    results = list(fetch_concurrently(client, list(range(1, 30)), 4, green=green))
    assert [i for i, _ in results] == list(range(1, 30))
    assert results[0] == (1, "snapshot 1") and isinstance(results[2][1], basispoort.BasispoortError)
    assert client.most == 4
    sequential = SlowClient()
    assert len(list(fetch_concurrently(sequential, [1, 2, 3], 1))) == 3 and sequential.most == 1
