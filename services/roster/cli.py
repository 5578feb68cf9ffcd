"""`koppel roster ...`: operator commands that work on the roster database directly.

They write through the same rules and outbox as the service, so the running roster
service's relay publishes their events (and nothing is lost while it is down).
"""
from __future__ import annotations

import json
import sys

import click

from services.roster import edexml, store
from shared import config
from shared.db import make_engine, make_session_factory
from shared.errors import KoppelError


def _session():
    return make_session_factory(make_engine(config.database_url("roster")))()


def _print_report(report: dict, as_json: bool) -> None:
    if as_json:
        out = {k: v for k, v in report.items() if k != "sync_id" or v}
        out["school"] = {k: v for k, v in report["school"].items() if k != "id"}
        click.echo(json.dumps(out, ensure_ascii=False))
        return
    s = report["school"]
    state = "applied" if report["applied"] else ("PENDING APPROVAL (mass-deletion guard)"
                                                 if report["pending_approval"] else "not applied (dry run)")
    click.echo(f"school {s['brin']}{s['dependance']} {s['name'] or ''}: {state}")
    for kind in ("groups", "pupils", "staff"):
        c = report[kind]
        click.echo(f"  {kind:7} +{c['added']} ~{c['changed']} -{c['removed']}")
    for kind, keys in report.get("diff", {}).items():
        for change, items in keys.items():
            if items:
                click.echo(f"  {kind} {change}: {', '.join(items)}")
    if report["pending_approval"]:
        click.echo(f"  approve with: koppel roster approve {report['sync_id']}")


@click.group()
def roster():
    """Roster intake (EDEXML, Basispoort) and approvals."""


@roster.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Print the difference, apply nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (the CLI contract).")
@click.option("--name", help="School name (EDEXML carries none).")
def import_file(file, dry_run, as_json, name):
    """Import an EDEXML 2.0/2.1 file: validate, diff, apply, emit roster.updated."""
    try:
        snapshot = edexml.parse_file(file)
    except edexml.EdexmlError as exc:
        for problem in exc.problems:
            click.echo(f"{file}:{problem.line or 0}: {problem.message}", err=True)
        sys.exit(2)
    with _session() as session, session.begin():
        report = store.sync_school(session, snapshot, dry_run=dry_run, name=name)
    _print_report(report, as_json)


@roster.command("approve")
@click.argument("sync_id")
def approve(sync_id):
    """Apply a sync that the mass-deletion guard held back."""
    try:
        with _session() as session, session.begin():
            report = store.approve(session, sync_id)
    except KoppelError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    click.echo(json.dumps(report))
