"""Parsing licence files: rows numbered as the user sees them, every problem with its row and field."""
import json

import pytest

from services.licensing import importing
from shared.errors import InvalidInput

HEADER = ("school_id;contract_number;title;isbn;article_number;method;product_type"
          ";start_date;end_date;licence_type;kind;seats")


def test_csv_rows_are_numbered_like_a_spreadsheet_and_semicolons_work():
    text = "\ufeff" + HEADER + "\n99ZZ00;0040208023000010;Argus Clou;9789402018141;540534;Argus Clou;" \
        "Digibordsoftware;15-05-2017;31-12-2039;Proef;per groep;\n\n" \
        "99ZZ00;0040344420000010;\"Rekenen; per kind\";;;;Oefensoftware;2020-02-20;2039-12-31;;per kind;10\n"
    rows = importing.rows_from_bytes(text.encode(), "csv")
    assert [r.number for r in rows] == [2, 4]
    assert rows[0]["school_id"] == "99ZZ00" and rows[1]["title"] == "Rekenen; per kind"
    first = importing._normalised(rows[0])
    assert (first["start_date"], first["kind"]) == ("2017-05-15", "group")
    second = importing._normalised(rows[1])
    assert second["kind"] == "pupil" and "isbn" not in second and "licence_type" not in second


def test_csv_with_a_missing_column_or_a_short_row_says_where():
    with pytest.raises(InvalidInput) as exc:
        importing.rows_from_bytes(b"title,isbn\nx,y\n", "csv")
    assert exc.value.fields == {"row 1": {"school_id": ["missing column"], "contract_number": ["missing column"]}}
    rows = importing.rows_from_bytes(b"school_id,contract_number,title\n99ZZ00,1\n", "csv")
    assert rows[0].number == 2 and rows[0]["__shape__"] == "2 cells, header has 3"


def test_json_rows_are_numbered_from_one_and_bad_json_says_line_and_column():
    rows = importing.rows_from_bytes(json.dumps({"licences": [{"a": 1}, {"b": 2}]}).encode(), "json")
    assert [r.number for r in rows] == [1, 2]
    with pytest.raises(InvalidInput) as exc:
        importing.rows_from_bytes(b'[\n {"a": 1},\n {"b": }\n]', "json")
    assert str(exc.value).startswith("invalid JSON at line 3, column 8")
    with pytest.raises(InvalidInput):
        importing.rows_from_bytes(b'{"a": 1}', "json")


def test_not_utf8_and_unknown_format_are_refused():
    with pytest.raises(InvalidInput, match="not UTF-8"):
        importing.rows_from_bytes(b"school_id\n\xff\xfe", "csv")
    with pytest.raises(InvalidInput, match="unknown format"):
        importing.rows_from_bytes(b"", "xlsx")


def test_describe_gives_one_line_per_row_and_field():
    exc = InvalidInput("2 of 3 rows are invalid", {"row 3": {"isbn": ["not a valid ISBN-13 (checksum)"]},
                                                   "row 5": {"contract_number": ["also in row 2"]}})
    assert importing.describe(exc) == ["row 3, isbn: not a valid ISBN-13 (checksum)",
                                       "row 5, contract_number: also in row 2"]
