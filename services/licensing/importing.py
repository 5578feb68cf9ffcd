"""Licences from the publisher's order system: CSV or JSON, all rows or none, idempotent on contract number.

Rows are numbered as the user sees them: in a CSV file as a spreadsheet shows it (the header is
row 1, the first licence row 2); in a JSON array from 1. Every problem names its row and field.
"""
from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

from sqlalchemy.orm import Session

from services.licensing import licences
from shared.errors import InvalidInput, KoppelError

MAX_BYTES = 20 * 1024 * 1024
KIND_WORDS = {"per groep": "group", "groep": "group", "per kind": "pupil", "kind": "pupil"}
DUTCH_DATE = re.compile(r"^(\d{1,2})-(\d{1,2})-(\d{4})$")


class Row(dict):
    """One licence row and the number the user knows it by."""

    def __init__(self, number: int, data: dict):
        super().__init__(data)
        self.number = number


def rows_from_bytes(data: bytes, fmt: str) -> list[Row]:
    """Parse CSV (`,` `;` or tab separated, UTF-8 with or without BOM) or JSON (an array of objects)."""
    if len(data) > MAX_BYTES:
        raise InvalidInput(f"file is larger than {MAX_BYTES // (1024 * 1024)} MB", {"file": ["too large"]})
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"file is not UTF-8 (byte {exc.start})", {"file": ["not UTF-8"]}) from None
    if fmt == "json":
        return _json_rows(text)
    if fmt == "csv":
        return _csv_rows(text)
    raise InvalidInput(f"unknown format {fmt!r}", {"format": ["csv or json"]})


def rows_from_file(path: str | Path) -> list[Row]:
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in ("csv", "json"):
        raise InvalidInput(f"{path.name}: use a .csv or .json file", {"file": ["csv or json"]})
    if path.stat().st_size > MAX_BYTES:
        raise InvalidInput(f"file is larger than {MAX_BYTES // (1024 * 1024)} MB", {"file": ["too large"]})
    return rows_from_bytes(path.read_bytes(), fmt)


def _json_rows(text: str) -> list[Row]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}",
                           {"file": [f"line {exc.lineno}: {exc.msg}"]}) from None
    if isinstance(data, dict) and isinstance(data.get("licences"), list):
        data = data["licences"]
    if not isinstance(data, list):
        raise InvalidInput("JSON must be an array of licences (or {\"licences\": [...]})", {"file": ["not an array"]})
    return [Row(i, item) for i, item in enumerate(data, start=1)]


def _csv_rows(text: str) -> list[Row]:
    first_line = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise InvalidInput("the file is empty", {"file": ["empty"]}) from None
    missing = [f for f in ("school_id", "contract_number") if f not in header]
    if missing:
        raise InvalidInput(f"row 1 (header): missing column(s) {', '.join(missing)}",
                           {"row 1": {name: ["missing column"] for name in missing}})
    rows = []
    for number, values in enumerate(reader, start=2):
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(header):
            rows.append(Row(number, {"__shape__": f"{len(values)} cells, header has {len(header)}"}))
            continue
        rows.append(Row(number, {name: value for name, value in zip(header, values, strict=True) if name}))
    return rows


def _normalised(row: Row) -> dict:
    """Empty cells are absent values; Dutch dates (15-05-2017) and kind words are accepted."""
    out = {}
    for name, value in row.items():
        if isinstance(value, str):
            value = value.strip()
            if value == "":
                value = None
            elif name in ("start_date", "end_date") and (match := DUTCH_DATE.match(value)):
                day, month, year = match.groups()
                value = f"{year}-{int(month):02d}-{int(day):02d}"
            elif name == "kind":
                value = KIND_WORDS.get(value.lower(), value)
        if value is not None:  # absent: the schema's default, or "Missing data for required field."
            out[name] = value
    return out


def import_licences(session: Session, rows: list[dict]) -> dict:
    """Validate every row, then create or update each by contract number, in the caller's transaction.

    Returns {"rows", "created", "updated", "unchanged"}. Raises InvalidInput whose fields map
    "row N" to that row's field errors when any row is wrong; the caller's transaction then
    rolls back, so nothing is half-imported.
    """
    numbered = [r if isinstance(r, Row) else Row(i, r if isinstance(r, dict) else {"__shape__": "not an object"})
                for i, r in enumerate(rows, start=1)]
    if not numbered:
        raise InvalidInput("no licences in the file", {"file": ["no rows"]})
    errors: dict[str, dict] = {}
    valid: list[tuple[Row, dict]] = []
    seen: dict[str, int] = {}
    for row in numbered:
        if "__shape__" in row:
            errors[f"row {row.number}"] = {"row": [row["__shape__"]]}
            continue
        try:
            values = licences.validated(_normalised(row))
        except InvalidInput as exc:
            errors[f"row {row.number}"] = exc.fields
            continue
        first = seen.setdefault(values["contract_number"], row.number)
        if first != row.number:
            errors[f"row {row.number}"] = {"contract_number": [f"also in row {first}"]}
            continue
        valid.append((row, values))
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    if not errors:
        for row, values in valid:
            try:
                _, outcome = licences.upsert_licence(session, values)
            except KoppelError as exc:  # checks against stored state (another school, seats in use)
                errors[f"row {row.number}"] = exc.fields or {"row": [str(exc)]}
                continue
            counts[outcome] += 1
    if errors:
        raise InvalidInput(f"{len(errors)} of {len(numbered)} rows are invalid; nothing was imported", errors)
    return {"rows": len(numbered), **counts}


def describe(exc: InvalidInput) -> list[str]:
    """One line per problem, "row N, field: message", for the CLI."""
    lines = []
    for where, problems in exc.fields.items():
        if isinstance(problems, dict):
            for field, messages in problems.items():
                for message in _flat(messages):
                    lines.append(f"{where}, {field}: {message}")
        else:
            lines.extend(f"{where}: {message}" for message in _flat(problems))
    return lines or [str(exc)]


def _flat(messages) -> list[str]:
    if isinstance(messages, dict):
        return [f"{k}: {m}" for k, v in messages.items() for m in _flat(v)]
    if isinstance(messages, list):
        return [str(m) for m in messages]
    return [str(messages)]
