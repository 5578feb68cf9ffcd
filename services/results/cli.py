"""`koppel results ...`: operator commands on the results database (no broker needed)."""
from __future__ import annotations

import datetime as dt
import json

import click
from sqlalchemy import delete, exists, func, select, update

from services.results import consent as consent_rules
from services.results import lvs_couplings
from services.results import models as m
from shared import config
from shared.db import make_engine, make_session_factory
from shared.errors import KoppelError
from shared.messaging import utcnow


def _session():
    return make_session_factory(make_engine(config.database_url("results")))()


def _owed(session, coupling_id: str) -> int:
    return session.scalar(select(func.count()).select_from(m.ResultDelivery).where(
        m.ResultDelivery.coupling_id == coupling_id, m.ResultDelivery.batch_id.is_(None)))


@click.group()
def results():
    """Consent, LVS couplings and the export of practice results."""


@results.command("status")
@click.argument("school_id")
@click.option("--json", "as_json", is_flag=True)
def status(school_id, as_json):
    """Consent and LVS couplings of SCHOOL_ID, with how many results each coupling still owes."""
    with _session() as s:
        try:
            report = {"consent": consent_rules.consent(s, school_id),
                      "couplings": [{**c, "owed": _owed(s, c["id"])}
                                    for c in lvs_couplings.lvs_couplings(s, school_id)]}
        except KoppelError as exc:
            raise click.ClickException(f"{exc} {exc.fields}") from None
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False))
        return
    c = report["consent"]
    click.echo(f"{school_id}: consent {'given' if c['given'] else 'NOT given'}"
               + (f" by {c['by']} at {c['at']}" if c["by"] else ""))
    for cp in report["couplings"]:
        click.echo(f"  {cp['lvs_name']} ({cp['id']}) {cp['status']}, key {cp['key_hint']}, owes {cp['owed']}, "
                   f"last export {cp['last_export_at'] or '-'} ({cp['last_export_count'] or 0})"
                   + (f"\n    last error: {cp['last_error']}" if cp["last_error"] else ""))


@results.command("retry-now")
@click.argument("coupling_id")
def retry_now(coupling_id):
    """Skip the backoff of a retrying coupling (after an LVS outage is known to be over)."""
    with _session() as s, s.begin():
        done = s.execute(update(m.LvsCoupling).where(
            m.LvsCoupling.id == coupling_id, m.LvsCoupling.status == lvs_couplings.RETRYING,
            m.LvsCoupling.removed_at.is_(None)).values(next_attempt_at=utcnow())).rowcount
    if not done:
        raise click.ClickException("no retrying coupling with that id")
    click.echo("the next exporter round sends to it")


@results.command("prune")
@click.option("--older-than-days", type=click.IntRange(min=1), default=30, show_default=True)
def prune(older_than_days):
    """Delete practice results delivered to every coupling that owed them, recorded more than N days ago.

    Keeps what the export still needs; a pruned result that the learning app sends again is stored
    and sent again (with the same resultaat key, which the LVS can recognise)."""
    cutoff = utcnow() - dt.timedelta(days=older_than_days)
    r, d = m.PracticeResult, m.ResultDelivery
    with _session() as s, s.begin():
        done = select(r.id).where(r.recorded_at < cutoff,
                                  ~exists().where(d.result_id == r.id, d.batch_id.is_(None)))
        s.execute(delete(d).where(d.result_id.in_(done)))
        count = s.execute(delete(r).where(r.recorded_at < cutoff,
                                          ~exists().where(d.result_id == r.id))).rowcount
    click.echo(f"pruned {count} delivered practice results recorded before {cutoff:%Y-%m-%d %H:%M} UTC")
