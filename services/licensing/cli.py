"""`koppel licences ...`: operator commands that work on the licensing database directly."""
from __future__ import annotations

import json
import sys

import click

from services.licensing import importing, rights
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


@licences.command("rights-failed")
@click.option("--school", "school_id", help="Only this school (BRIN6).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per push.")
def rights_failed(school_id, as_json):
    """List grants and revokes in Basispoort that gave up after their retries."""
    engine = make_engine(config.database_url("licensing"))
    try:
        with make_session_factory(engine)() as session:
            found = rights.failed_pushes(session, school_id)
    finally:
        engine.dispose()
    for push in found:
        click.echo(json.dumps(push, ensure_ascii=False) if as_json else
                   f"{push['school_id']} coupling {push['coupling_id']}: {push['action']} {push['method']}/"
                   f"{push['product']} failed after {push['attempts']} attempts: {push['last_error']}")
    if not found and not as_json:
        click.echo("no failed pushes")


@licences.command("rights-retry")
@click.argument("coupling_ids", nargs=-1)
@click.option("--school", "school_id", required=True, help="The school (BRIN6) the couplings belong to.")
@click.option("--all", "all_failed", is_flag=True, help="Every failed push of the school.")
def rights_retry(coupling_ids, school_id, all_failed):
    """Put failed pushes back in the queue (the pusher sends them within seconds)."""
    if not coupling_ids and not all_failed:
        click.echo("error: name COUPLING_IDS or --all", err=True)
        sys.exit(2)
    engine = make_engine(config.database_url("licensing"))
    try:
        session = make_session_factory(engine)()
        if all_failed:
            coupling_ids = sorted({p["coupling_id"] for p in rights.failed_pushes(session, school_id)})
            session.rollback()
        queued = sum(rights.retry(session, school_id, coupling_id) for coupling_id in coupling_ids)
        session.close()
    finally:
        engine.dispose()
    click.echo(f"{queued} push(es) queued again")
