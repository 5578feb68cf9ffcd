"""Transactional outbox and idempotent consumption, free of nameko so it tests without a broker.

Every service's database gets two tables:
- `outbox`: events written in the same transaction as the change they describe;
  a relay publishes them later and stamps `published_at`.
- `processed_events`: the event ids a consumer has applied, inserted in the same
  transaction as the consumer's effect, so a redelivered event is recognised and skipped.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shared.events import make_event

log = logging.getLogger(__name__)

Publish = Callable[[dict, str, str], None]  # (envelope, source service, event type)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Messaging:
    """The outbox and processed-events tables of one service, and what it does with them."""

    def __init__(self, service: str, metadata: MetaData):
        self.service = service
        self.outbox = Table(
            "outbox", metadata,
            Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
            Column("event_id", String(36), nullable=False, unique=True),
            Column("event_type", String(64), nullable=False),
            Column("school", String(16), nullable=False),
            Column("body", Text, nullable=False),
            Column("created_at", DateTime(timezone=True), nullable=False),
            Column("published_at", DateTime(timezone=True), nullable=True),
            Column("attempts", Integer, nullable=False, default=0),
            Column("last_error", Text, nullable=True),
            Index("ix_outbox_unpublished", "id", postgresql_where=text("published_at IS NULL"),
                  sqlite_where=text("published_at IS NULL")),
        )
        self.processed = Table(
            "processed_events", metadata,
            Column("consumer", String(128), primary_key=True),
            Column("event_id", String(36), primary_key=True),
            Column("processed_at", DateTime(timezone=True), nullable=False),
        )

    # --- writing side -------------------------------------------------------------------

    def emit(self, session: Session, event_type: str, school: str, payload: dict) -> dict:
        """Write an event to the outbox inside the caller's transaction; returns the envelope."""
        envelope = make_event(event_type, school, payload)
        session.execute(insert(self.outbox).values(
            event_id=envelope["event_id"], event_type=event_type, school=school,
            body=json.dumps(envelope), created_at=utcnow(), attempts=0,
        ))
        return envelope

    def first_delivery(self, session: Session, consumer: str, event_id: str) -> bool:
        """Record that `consumer` applies `event_id` now; False if it already did.

        Must run inside the transaction that applies the effect. On PostgreSQL a second
        instance handling the same event concurrently blocks on the primary key until the
        first commits, then sees the conflict: the effect happens once.
        """
        try:
            with session.begin_nested():
                session.execute(insert(self.processed).values(
                    consumer=consumer, event_id=event_id, processed_at=utcnow()))
        except IntegrityError:
            return False
        return True

    # --- relay side ---------------------------------------------------------------------

    def relay_batch(self, session_factory: Callable[[], Session], publish: Publish, batch_size: int = 200) -> int:
        """Publish up to `batch_size` unpublished events in id order; returns how many were sent.

        Rows are claimed with FOR UPDATE SKIP LOCKED, so two relays of one service never
        publish the same row. A row is stamped only after the broker confirmed it; if a
        publish fails, the rows confirmed before it are stamped and the rest wait for the
        next round. A crash after the confirm but before the commit republishes a row:
        delivery is at-least-once and consumers deduplicate by event_id.
        """
        published: list[int] = []
        with session_factory() as session, session.begin():
            rows = session.execute(
                select(self.outbox.c.id, self.outbox.c.event_type, self.outbox.c.body)
                .where(self.outbox.c.published_at.is_(None))
                .order_by(self.outbox.c.id)
                .limit(batch_size)
                .with_for_update(skip_locked=True)
            ).all()
            failure: Exception | None = None
            for row in rows:
                try:
                    publish(json.loads(row.body), self.service, row.event_type)
                except Exception as exc:  # noqa: BLE001 - any publish failure leaves the row for later
                    failure = exc
                    session.execute(update(self.outbox).where(self.outbox.c.id == row.id).values(
                        attempts=self.outbox.c.attempts + 1, last_error=f"{type(exc).__name__}: {exc}"[:500]))
                    break
                published.append(row.id)
            if published:
                session.execute(update(self.outbox).where(self.outbox.c.id.in_(published))
                                .values(published_at=utcnow()))
        if failure is not None:
            log.warning("outbox relay of %s: publish failed after %d sent: %s",
                        self.service, len(published), failure)
        return len(published)

    def pending_count(self, session: Session) -> int:
        return session.scalar(select(func.count()).select_from(self.outbox)
                              .where(self.outbox.c.published_at.is_(None)))

