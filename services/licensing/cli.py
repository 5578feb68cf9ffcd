"""`koppel licences ...`: operator commands that work on the licensing database directly."""
from __future__ import annotations

import json
import sys

import click

from services.licensing import importing
from shared import config
from shared.db import make_engine, make_session_factory
from shared.errors import InvalidInput


@click.group()
def licences():
    """Licences from the publisher's order system."""


@licences.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def import_file(file, as_json):
    """Import licences from a CSV or JSON FILE: all rows or none, idempotent on contract number.

    Columns/keys: school_id, contract_number, title, isbn, article_number, method, product_type,
    jaargroep, start_date, end_date, licence_type, kind (group|pupil), seats.
    """
    engine = make_engine(config.database_url("licensing"))
    try:
        rows = importing.rows_from_file(file)
        with make_session_factory(engine)() as session, session.begin():
            report = importing.import_licences(session, rows)
    except InvalidInput as exc:
        if as_json:
            click.echo(json.dumps({"error": str(exc), "fields": exc.fields}, ensure_ascii=False))
        else:
            click.echo(f"{file}: {exc}", err=True)
            for line in importing.describe(exc):
                click.echo(f"{file}: {line}", err=True)
        sys.exit(2)
    finally:
        engine.dispose()
    if as_json:
        click.echo(json.dumps(report))
    else:
        click.echo(f"{file}: {report['rows']} licences: {report['created']} created, {report['updated']} updated, "
                   f"{report['unchanged']} unchanged")
