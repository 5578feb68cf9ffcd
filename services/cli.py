"""`koppel`: the operator CLI, one subcommand group per service."""
from __future__ import annotations

import click

from services.gateway.cli import accounts
from services.licensing.cli import licences
from services.results.cli import results
from services.roster.cli import roster
from shared import config


@click.group()
def main():
    """koppel operator commands."""


@main.group()
def db():
    """Database migrations (alembic, one history per service)."""


@db.command("upgrade")
@click.argument("services", nargs=-1)
def db_upgrade(services):
    """Migrate SERVICES (default: all) to the latest revision."""
    from shared.migrations import upgrade

    for service in services or config.SERVICES:
        upgrade(service)
        click.echo(f"{service}: migrated ({config.database_url(service).split('@')[-1]})")


@main.group()
def events():
    """The event contracts."""


@events.command("doc")
def events_doc():
    """Print the event contracts as Markdown (docs/events.md is this output)."""
    from shared.contract_doc import render

    click.echo(render(), nl=False)


@main.command()
@click.argument("services", nargs=-1)
@click.option("--timeout", default=5.0, show_default=True)
def health(services, timeout):
    """Ask SERVICES (default: all but the gateway) for their health over RPC; exit 1 if one fails."""
    from nameko.standalone.rpc import ClusterRpcProxy

    failed = False
    with ClusterRpcProxy(config.nameko_config(), timeout=timeout) as rpc:
        for service in services or ("roster", "licensing", "results"):
            try:
                getattr(rpc, service).health()
                click.echo(f"{service}: ok")
            except Exception as exc:  # noqa: BLE001 - report every service
                failed = True
                click.echo(f"{service}: {type(exc).__name__}", err=True)
    raise SystemExit(1 if failed else 0)


main.add_command(roster)
main.add_command(accounts)
main.add_command(licences)
main.add_command(results)
