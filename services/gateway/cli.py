"""`koppel accounts ...`: operator commands for staff accounts of the admin UI.

They work on the gateway database directly and ask the running roster service (RPC) whether the
e-mail address belongs to staff: only staff the roster knows get an account.
"""
from __future__ import annotations

import sys
from contextlib import contextmanager

import click

from shared import config
from shared.errors import KoppelError


@contextmanager
def _db_and_roster():
    from nameko.standalone.rpc import ClusterRpcProxy

    from shared.db import make_engine, make_session_factory

    engine = make_engine(config.database_url("gateway"))
    timeout = config.float_setting("GATEWAY_RPC_TIMEOUT", 10.0)
    try:
        with ClusterRpcProxy(config.nameko_config(), timeout=timeout) as rpc, make_session_factory(engine)() as session:
            yield session, rpc.roster
    finally:
        engine.dispose()


def _fail(exc: Exception) -> None:
    fields = getattr(exc, "fields", {}) or {}
    detail = "; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in fields.items())
    click.echo(f"error: {exc}" + (f" ({detail})" if detail else ""), err=True)
    sys.exit(2)


@click.group()
def accounts():
    """Staff accounts of the admin UI (log in with the school e-mail address)."""


@accounts.command("invite")
@click.argument("email")
def invite(email):
    """Mail EMAIL a single-use invitation link to set a password (7 days valid)."""
    from services.gateway import signin

    try:
        with _db_and_roster() as (session, roster):
            where = signin.invite(session, roster, email)
    except KoppelError as exc:
        _fail(exc)
    click.echo(f"invitation sent to {email.strip().lower()}: {where}")


@accounts.command("set-password")
@click.argument("email")
@click.password_option("--password", help="Prompted for (twice) when not given; read from stdin when not a tty.")
def set_password(email, password):
    """Set the password of EMAIL (creating its account); ends its open sessions."""
    from services.gateway import accounts as rules
    from services.gateway import websessions
    from shared.errors import NotFound

    try:
        with _db_and_roster() as (session, roster):
            if not roster.memberships(rules.normalise_email(email)):
                raise NotFound("no school lists this e-mail address")
            with session.begin():
                account = rules.get_or_create_account(session, email)
                rules.set_password(session, account, password)
                websessions.close_all(session, account.id)
    except KoppelError as exc:
        _fail(exc)
    click.echo(f"password set for {email.strip().lower()}")


@accounts.command("purge")
def purge():
    """Delete expired sessions, spent or expired links and old login attempts (safe to run any time)."""
    from services.gateway import accounts as rules
    from services.gateway import websessions
    from shared.db import make_engine, make_session_factory

    engine = make_engine(config.database_url("gateway"))
    try:
        with make_session_factory(engine)() as session, session.begin():
            counts = {"sessions": websessions.purge_expired(session), **rules.purge_spent(session)}
    finally:
        engine.dispose()
    click.echo(", ".join(f"{name}: {count} deleted" for name, count in counts.items()))
