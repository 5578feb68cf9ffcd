"""`koppel licences import` and the import_licences RPC on the real PostgreSQL (and RabbitMQ for the RPC)."""
import json

import pytest
from click.testing import CliRunner
from nameko.standalone.rpc import ServiceRpcProxy
from sqlalchemy import select

from services.cli import main as koppel
from services.licensing import models as m
from shared.errors import InvalidInput

HEADER = ("school_id,contract_number,title,isbn,article_number,method,product_type"
          ",start_date,end_date,licence_type,kind,seats")
ROWS = [
    "99ZZ00,0040208023000010,Argus Clou aardrijkskunde digibordsoftware groep 3,9789402018141,540534,Argus Clou,"
    "Digibordsoftware,15-05-2017,31-12-2039,Proef,group,",
    "99ZZ00,0040207781000010,Argus Clou aardrijkskunde digibordsoftware groep 7,9789402018141,540535,Argus Clou,"
    "Digibordsoftware,2017-05-15,2039-12-31,Proef,group,",
    "99ZZ00,0040344420000010,De wereld in getallen 4 oefensoftware groep 7 (per kind),9789402066098,594863,"
    "De wereld in getallen,Oefensoftware,2020-02-20,2039-12-31,Regulier,pupil,10",
]


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def stored(sessions):
    with sessions["licensing"]() as s:
        return {x.contract_number: x for x in s.scalars(select(m.Licence))}


def test_csv_import_creates_then_updates_never_duplicates(sessions, tmp_path):
    path = write(tmp_path, "orders.csv", "\n".join([HEADER, *ROWS]) + "\n")
    first = CliRunner().invoke(koppel, ["licences", "import", path, "--json"])
    assert first.exit_code == 0, first.output
    assert json.loads(first.output) == {"rows": 3, "created": 3, "updated": 0, "unchanged": 0}
    changed = [ROWS[0].replace("Proef", "Regulier"), ROWS[1], ROWS[2].replace(",10", ",12")]
    second = CliRunner().invoke(koppel, ["licences", "import", write(tmp_path, "again.csv",
                                                                     "\n".join([HEADER, *changed]))])
    assert second.exit_code == 0, second.output
    assert "3 licences: 0 created, 2 updated, 1 unchanged" in second.output
    licences = stored(sessions)
    assert len(licences) == 3
    assert licences["0040208023000010"].licence_type == "Regulier"
    assert licences["0040208023000010"].start_date.isoformat() == "2017-05-15"
    assert licences["0040344420000010"].seats == 12 and licences["0040344420000010"].kind == "pupil"


def test_one_bad_row_imports_nothing_and_every_problem_names_row_and_field(sessions, tmp_path):
    bad_isbn = ROWS[1].replace("9789402018141", "9789402018142")
    duplicate = ROWS[0]
    no_seats = ROWS[2].replace(",10", ",").replace("0040344420000010", "0040344420000011")
    path = write(tmp_path, "orders.csv", "\n".join([HEADER, ROWS[0], bad_isbn, ROWS[2], duplicate, no_seats]))
    result = CliRunner().invoke(koppel, ["licences", "import", path])
    assert result.exit_code == 2
    err = result.stderr
    assert "3 of 5 rows are invalid; nothing was imported" in err
    assert f"{path}: row 3, isbn: not a valid ISBN-13 (checksum)" in err
    assert f"{path}: row 5, contract_number: also in row 2" in err
    assert f"{path}: row 6, seats: a per-child licence needs a number of seats" in err
    assert stored(sessions) == {}


def test_a_row_that_conflicts_with_stored_state_rolls_back_the_whole_file(sessions, tmp_path):
    CliRunner().invoke(koppel, ["licences", "import", write(tmp_path, "a.json", json.dumps([
        {"school_id": "11AA00", "contract_number": "0040207781000010", "title": "Andere school",
         "product_type": "Oefensoftware", "start_date": "2020-01-01", "end_date": "2030-01-01", "kind": "group"}]))])
    rows = [dict(zip(HEADER.split(","), r.split(","), strict=True)) for r in ROWS]
    result = CliRunner().invoke(koppel, ["licences", "import", "--json", write(tmp_path, "b.json", json.dumps(rows))])
    assert result.exit_code == 2
    report = json.loads(result.output)
    assert report["fields"] == {"row 2": {"contract_number": ["belongs to another school"]}}
    assert list(stored(sessions)) == ["0040207781000010"]


def test_import_licences_rpc_is_the_same_all_or_nothing_import(start_services, sessions, rabbit_config):
    start_services("licensing")
    rows = [dict(zip(HEADER.split(","), r.split(","), strict=True)) for r in ROWS]
    with ServiceRpcProxy("licensing", {**rabbit_config, "serializer": "json"}) as licensing:
        with pytest.raises(InvalidInput) as exc:
            licensing.import_licences([*rows, {**rows[0], "product_type": "Spel", "contract_number": "1"}])
        assert exc.value.fields == {"row 4": {"product_type": ["Must be one of: Digibordsoftware, Oefensoftware, "
                                                               "Verwerkingssoftware, Toetssoftware, Resultatenmonitor, "
                                                               "Software handleidingen."],
                                              "contract_number": ["must be 16 digits"]}}
        assert stored(sessions) == {}
        assert licensing.import_licences(rows) == {"rows": 3, "created": 3, "updated": 0, "unchanged": 0}
        assert licensing.import_licences(rows) == {"rows": 3, "created": 0, "updated": 0, "unchanged": 3}
