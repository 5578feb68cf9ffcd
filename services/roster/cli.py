"""`koppel roster ...`: operator commands that work on the roster database directly.

They write through the same rules and outbox as the service, so the running roster
service's relay publishes their events (and nothing is lost while it is down).

Exit codes: 0 success (also when a sync is held for approval: the JSON says so), 1 a
Basispoort sync of some school failed, 2 invalid input (one stderr line per problem) or an
unknown/non-pending sync id.
"""
from __future__ import annotations

import json
import sys

import click

from services.roster import basispoort, edexml, pull, store
from shared import config
from shared.db import make_engine, make_session_factory
from shared.errors import KoppelError

CONTRACT_KINDS = ("groups", "pupils", "staff")


def _session():
    return make_session_factory(make_engine(config.database_url("roster")))()


def contract_json(report: dict) -> dict:
    """The CLI contract's object: exactly these keys, plus `sync_id` when the sync is held
    (the operator needs it for `koppel roster approve`)."""
    out = {"school": {k: report["school"][k] for k in ("brin", "dependance", "name")},
           "applied": report["applied"], "pending_approval": report["pending_approval"],
           **{kind: report[kind] for kind in CONTRACT_KINDS}}
    if report["pending_approval"]:
        out["sync_id"] = report["sync_id"]
    return out


def _print_report(report: dict, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(contract_json(report), ensure_ascii=False))
        return
    s = report["school"]
    state = "applied" if report["applied"] else ("PENDING APPROVAL (mass-deletion guard)"
                                                 if report["pending_approval"] else "not applied (dry run)")
    click.echo(f"school {s['brin']}{s['dependance']} {s['name'] or ''}: {state}")
    for kind in CONTRACT_KINDS:
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


@roster.command("sync")
@click.option("--school", "school_id", metavar="BRIN", help="Only this school: BRIN6 (e.g. 99ZZ01), or BRIN of 4 for "
              "its main location (99ZZ = 99ZZ00); default: all.")
@click.option("--dry-run", is_flag=True, help="Fetch and print the difference, apply nothing.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per school, then the summary.")
def sync(school_id, dry_run, as_json):
    """Pull the roster from Basispoort now (BASISPOORT_URL, BASISPOORT_CERT_FILE, ...)."""
    settings = basispoort.Settings.from_env()
    if settings is None:
        click.echo("error: BASISPOORT_URL is not set", err=True)
        sys.exit(2)

    def show(result: dict) -> None:
        if as_json:
            line = {k: v for k, v in result.items() if k != "report"}
            if "report" in result:
                line["report"] = contract_json(result["report"])
            click.echo(json.dumps(line, ensure_ascii=False))
        elif result["status"] == "failed":
            click.echo(f"instelling {result['basispoort_id']} ({result['school'] or '?'}): failed: {result['error']}",
                       err=True)
        else:
            click.echo(f"instelling {result['basispoort_id']}: {result['status']}")
            _print_report(result["report"], False)

    try:
        with basispoort.Client(settings) as client, _session() as session:
            if school_id:
                institution_id = pull.find_institution(session, client, school_id.strip().upper())
                result = pull.sync_institution(session, client, institution_id, dry_run=dry_run)
                show(result)
                summary = pull.summarise([result])
            else:
                summary = pull.sync_all(session, client, on_result=show, dry_run=dry_run)
    except (basispoort.BasispoortError, KoppelError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    if as_json:
        click.echo(json.dumps({"summary": summary}, ensure_ascii=False))
    else:
        click.echo("summary: " + ", ".join(f"{k} {v}" for k, v in summary.items() if k != "failures"))
    sys.exit(1 if summary["failed"] else 0)


@roster.command("pending")
@click.argument("school_id", metavar="BRIN6")
def pending(school_id):
    """List the school's syncs held by the mass-deletion guard (one JSON object per line)."""
    from services.roster import queries

    try:
        with _session() as session:
            runs = queries.pending_syncs(session, school_id.strip().upper())
    except KoppelError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    for run in runs:
        click.echo(json.dumps(run, ensure_ascii=False))


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
