"""`koppel roster import` against the real PostgreSQL: the CLI contract of issue 3, the guard,
and nothing stored on bad input."""
import json
import textwrap

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, text

from services.cli import main as koppel
from services.roster import models as m
from services.roster import synthetic
from shared.config import PROJECT_ROOT
from shared.db import green_psycopg

STD = PROJECT_ROOT / "shared/standards"
EXAMPLE_21 = (STD / "edexml-2.1/EDEXML.Voorbeeld.2.1.xml").read_bytes()
EXAMPLE_20 = (STD / "edexml-2.0/EDEXML.Voorbeeld.2.0.xml").read_bytes()
CONTRACT_KEYS = {"school", "applied", "pending_approval", "groups", "pupils", "staff"}
ZERO = {"added": 0, "changed": 0, "removed": 0}


def run(*args):
    # CliRunner keeps stderr apart (click 8.2+): stdout is the JSON, stderr the problems
    result = CliRunner().invoke(koppel, ["roster", *map(str, args)])
    return result


def import_json(path, *extra):
    result = run("import", path, "--json", *extra)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def write(tmp_path, data: bytes, name="roster.xml"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def table_state(sessions) -> dict:
    """Every roster table's full content, to prove that a refused import changed nothing."""
    with sessions["roster"]() as s:
        return {t: s.execute(text(f'SELECT * FROM "{t}" ORDER BY 1')).all()
                for t in ("schools", "groups", "pupils", "staff", "sync_runs", "outbox")}


def test_official_example_imports_with_exact_counts_then_reimport_is_all_zeros(sessions, tmp_path):
    path = write(tmp_path, EXAMPLE_21)
    report = import_json(path)
    assert set(report) == CONTRACT_KEYS
    assert report == {"school": {"brin": "99ZZ", "dependance": "00", "name": "School 99ZZ00"},
                      "applied": True, "pending_approval": False,
                      "groups": {"added": 8, "changed": 0, "removed": 0},
                      "pupils": {"added": 3, "changed": 0, "removed": 0},
                      "staff": {"added": 3, "changed": 0, "removed": 0}}
    with sessions["roster"]() as s:
        groups = s.execute(select(m.Group.composite, func.count()).group_by(m.Group.composite)).all()
        assert dict(groups) == {False: 5, True: 3}
        assert s.scalar(select(func.count()).select_from(m.messaging.outbox)) == 1

    again = import_json(path)
    assert again["applied"] is True and again["groups"] == again["pupils"] == again["staff"] == ZERO
    with sessions["roster"]() as s:
        assert s.scalar(select(func.count()).select_from(m.messaging.outbox)) == 1  # no second event
        assert s.scalar(select(m.School.sequence)) == 1


def test_edexml_20_and_a_2026_2027_file_import(sessions, tmp_path):
    report = import_json(write(tmp_path, EXAMPLE_20, "v20.xml"))
    assert report["pupils"]["added"] == 3
    current = EXAMPLE_21.replace(b"2014-2015", b"2026-2027").replace(b"<brincode>99ZZ", b"<brincode>12AB")
    report = import_json(write(tmp_path, current, "v21.xml"), "--name", "De Regenboog")
    assert report["school"] == {"brin": "12AB", "dependance": "00", "name": "De Regenboog"}
    with sessions["roster"]() as s:
        assert s.get(m.School, "12AB00").schooljaar == "2026-2027"


def test_dry_run_prints_the_diff_and_applies_nothing(sessions, tmp_path):
    import_json(write(tmp_path, EXAMPLE_21))
    before = table_state(sessions)
    moved = EXAMPLE_21.replace(b'<groep key="GRP4B"/>', b'<groep key="GRP4A"/>')
    path = write(tmp_path, moved, "moved.xml")
    report = import_json(path, "--dry-run")
    assert report["applied"] is False and report["pupils"] == {"added": 0, "changed": 1, "removed": 0}
    plain = run("import", path, "--dry-run")
    assert plain.exit_code == 0 and "pupils changed: 00001" in plain.stdout
    assert table_state(sessions) == before


BAD_INPUTS = {
    "malformed": (EXAMPLE_21.replace(b"</groepen>", b"</groepn>"), ["75: malformed XML"]),
    "schema violation": (EXAMPLE_21.replace(b"<brincode>99ZZ</brincode>", b"<brincode>ZZ99</brincode>"),
                         ["17: Element 'brincode'"]),
    "dangling group key": (EXAMPLE_21.replace(b'<groep key="GRP4B"/>', b'<groep key="GRP9Z"/>'), ["86: "]),
    "duplicate key": (EXAMPLE_21.replace(b'<leerling key="00002">', b'<leerling key="00001">'), ["94: "]),
    "external entity": (b'<?xml version="1.0"?>\n<!DOCTYPE EDEX [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
                        b"<EDEX>&x;</EDEX>", ["2: DOCTYPE/ENTITY declarations are not allowed"]),
    "entity expansion": (b'<?xml version="1.0"?>\n<!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
                         b"\n<EDEX>&b;</EDEX>", ["2: DOCTYPE/ENTITY declarations are not allowed"]),
    "unsupported version": (EXAMPLE_21.replace(b"<xsdversie>2.1<", b"<xsdversie>3.0<"),
                            ["22: unsupported EDEXML version 3.0; supported: 2.0, 2.1"]),
    "flemish": ((STD / "edexml-2.1/EDEXML.Voorbeeld.2.1-Vla.xml").read_bytes(), ["Flemish EDEXML"]),
    "duplicate e-mail": (EXAMPLE_21.replace(b"<rol>TAL</rol>", b"<emailadres>a@x.nl</emailadres><rol>TAL</rol>")
                         .replace(b"<rolomschrijving>", b"<emailadres>A@x.nl</emailadres><rolomschrijving>"),
                         ["150: leerkracht LK2: emailadres a@x.nl is also the address of leerkracht LK1"]),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_every_bad_input_exits_nonzero_with_line_numbers_and_changes_nothing(case, sessions, tmp_path):
    import_json(write(tmp_path, EXAMPLE_21, "good.xml"))  # a school already held: nothing of it may change
    before = table_state(sessions)
    data, expected = BAD_INPUTS[case]
    path = write(tmp_path, data, "bad.xml")
    result = run("import", path, "--json")
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines and all(line.startswith(f"{path}:") for line in lines)
    for fragment in expected:
        assert any(f"{path}:{fragment}" in line or fragment in line for line in lines), lines
    if case not in ("flemish",):
        assert any(line.split(":")[1] not in ("", "0") for line in lines), lines  # a real line number
    assert table_state(sessions) == before


def test_file_over_the_size_limit_is_refused_and_nothing_stored(sessions, tmp_path, monkeypatch):
    monkeypatch.setenv("EDEXML_MAX_BYTES", "1000")
    before = table_state(sessions)
    path = write(tmp_path, EXAMPLE_21)
    result = run("import", path)
    assert result.exit_code == 2
    assert result.stderr.strip() == f"{path}:0: file is {len(EXAMPLE_21)} bytes, over the limit of 1000 bytes"
    assert table_state(sessions) == before


def test_mass_deletion_is_held_and_applied_only_after_approve(sessions, tmp_path):
    school = synthetic.school(3, pupils=40)
    import_json(write(tmp_path, synthetic.to_edexml(school), "full.xml"))
    half = synthetic.school(3, pupils=40)
    for key in sorted(half.pupils)[:20]:  # a half-empty export: 50% > 30%
        del half.pupils[key]
    report = import_json(write(tmp_path, synthetic.to_edexml(half), "half.xml"))
    assert report["applied"] is False and report["pending_approval"] is True
    assert report["pupils"] == {"added": 0, "changed": 0, "removed": 20}
    assert set(report) == CONTRACT_KEYS | {"sync_id"}
    with sessions["roster"]() as s:
        assert s.scalar(select(func.count()).select_from(m.Pupil)) == 40
        assert s.scalar(select(func.count()).select_from(m.messaging.outbox)) == 1  # only the first import
        assert s.get(m.SyncRun, report["sync_id"]).status == "pending"

    approved = run("approve", report["sync_id"])
    assert approved.exit_code == 0, approved.stderr
    assert json.loads(approved.stdout)["pupils"] == {"added": 0, "changed": 0, "removed": 20}
    with sessions["roster"]() as s:
        assert s.scalar(select(func.count()).select_from(m.Pupil)) == 20
        assert s.scalar(select(func.count()).select_from(m.messaging.outbox)) == 2
        assert s.get(m.SyncRun, report["sync_id"]).status == "approved"
        assert s.get(m.SyncRun, report["sync_id"]).snapshot is None  # the held roster is not kept

    twice = run("approve", report["sync_id"])
    assert twice.exit_code == 2 and "is approved, not pending" in twice.stderr
    unknown = run("approve", "00000000-0000-0000-0000-000000000000")
    assert unknown.exit_code == 2 and "not found" in unknown.stderr


def test_a_newer_sync_supersedes_a_held_one(sessions, tmp_path):
    school = synthetic.school(4, pupils=10)
    import_json(write(tmp_path, synthetic.to_edexml(school), "full.xml"))
    nearly_empty = synthetic.school(4, pupils=10)
    for key in sorted(nearly_empty.pupils)[1:]:
        del nearly_empty.pupils[key]
    held = import_json(write(tmp_path, synthetic.to_edexml(nearly_empty), "nearly-empty.xml"))
    assert held["pending_approval"] is True
    import_json(write(tmp_path, synthetic.to_edexml(school), "full.xml"))
    result = run("approve", held["sync_id"])
    assert result.exit_code == 2 and "superseded" in result.stderr
    with sessions["roster"]() as s:
        assert s.scalar(select(func.count()).select_from(m.Pupil)) == 10


def test_pending_lists_the_held_sync(sessions, tmp_path):
    school = synthetic.school(5, pupils=10)
    import_json(write(tmp_path, synthetic.to_edexml(school), "full.xml"))
    for key in sorted(school.pupils)[:5]:
        del school.pupils[key]
    held = import_json(write(tmp_path, synthetic.to_edexml(school), "half.xml"))
    result = run("pending", school.school.school_id)
    assert result.exit_code == 0
    [line] = [json.loads(x) for x in result.stdout.splitlines()]
    assert line["sync_id"] == held["sync_id"] and line["summary"]["pupils"]["removed"] == 5
    assert line["summary"]["pupils_before"] == 10


def test_a_pupil_known_only_by_roepnaam_imports(sessions, tmp_path):
    data = EXAMPLE_21.replace(textwrap.dedent("""\
            <achternaam>Hof</achternaam>
    \t\t\t<voorvoegsel>van 't</voorvoegsel>
    \t\t\t<voorletters-1>G</voorletters-1>
    \t\t\t<roepnaam>Gradje</roepnaam>""").encode().replace(b"        ", b""), b"<roepnaam>Gradje</roepnaam>")
    assert b"<achternaam>Hof" not in data
    report = import_json(write(tmp_path, data))
    assert report["pupils"]["added"] == 3
    with sessions["roster"]() as s:
        assert (s.get(m.Pupil, ("99ZZ00", "12345")).first_name, s.get(m.Pupil, ("99ZZ00", "12345")).last_name) == \
            ("Gradje", "")


def test_copy_and_insert_store_the_same_rows(pg_urls, databases):
    """Outside eventlet (the CLI, benchmarks) pupils arrive through COPY; inside a service through
    INSERT. Both must store exactly the snapshot, also with awkward characters."""
    import dataclasses

    import psycopg2.extensions

    from services.roster import store
    from shared.db import make_engine, make_session_factory

    def awkward(snap):
        for n, key in enumerate(sorted(snap.pupils)[:4]):
            snap.pupils[key] = dataclasses.replace(snap.pupils[key], last_name=["Tab\there", "Back\\slash", "New\nline",
                                                                                "Quo\"te's"][n], prefix=None)
        return snap

    copied, inserted = awkward(synthetic.school(71, pupils=40)), awkward(synthetic.school(72, pupils=40))
    callback = psycopg2.extensions.get_wait_callback()
    psycopg2.extensions.set_wait_callback(None)  # as in a process without eventlet
    try:
        engine = make_engine(pg_urls["roster"])  # its connections are made now, without the callback
        assert not green_psycopg()
        with make_session_factory(engine)() as s, s.begin():
            store.sync_school(s, copied)
        engine.dispose()
    finally:
        psycopg2.extensions.set_wait_callback(callback)
    assert green_psycopg() == (callback is not None)
    engine = make_engine(pg_urls["roster"])
    with make_session_factory(engine)() as s:
        with s.begin():
            store.sync_school(s, inserted)
        for snap in (copied, inserted):
            stored = store.load_snapshot(s, snap.school.school_id)
            assert stored.pupils == snap.pupils and stored.staff == snap.staff and stored.groups == snap.groups
        assert s.scalar(select(func.count()).select_from(m.Staff).where(m.Staff.ict_coordinator.is_(True))) == 2
    engine.dispose()
