"""Tables of the licensing service (its own database), including its copy of the roster."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Date, DateTime, Index, Integer, String, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.messaging import Messaging


class Base(DeclarativeBase):
    pass


messaging = Messaging("licensing", Base.metadata)


class RosterGroup(Base):
    """Licensing's copy of a school's groups, fed by roster.updated (never by RPC)."""
    __tablename__ = "roster_groups"
    school_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    jaargroep: Mapped[str | None] = mapped_column(String(4))
    composite: Mapped[bool] = mapped_column(default=False)
    sequence: Mapped[int] = mapped_column(Integer)  # roster sequence of the state held
    removed: Mapped[bool] = mapped_column(default=False)  # tombstone, so an older event cannot revive it


class RosterPupil(Base):
    __tablename__ = "roster_pupils"
    school_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    group_key: Mapped[str | None] = mapped_column(String(64))
    composite_groups: Mapped[list] = mapped_column(JSON, default=list)
    sequence: Mapped[int] = mapped_column(Integer)
    removed: Mapped[bool] = mapped_column(default=False)


class RosterStaff(Base):
    __tablename__ = "roster_staff"
    school_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    groups: Mapped[list] = mapped_column(JSON, default=list)
    roles: Mapped[list] = mapped_column(JSON, default=list)
    sequence: Mapped[int] = mapped_column(Integer)
    removed: Mapped[bool] = mapped_column(default=False)


class Licence(Base):
    __tablename__ = "licences"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    school_id: Mapped[str] = mapped_column(String(16), index=True)
    contract_number: Mapped[str] = mapped_column(String(16), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    isbn: Mapped[str | None] = mapped_column(String(13))
    article_number: Mapped[str | None] = mapped_column(String(32))
    method: Mapped[str | None] = mapped_column(String(200))
    product_type: Mapped[str] = mapped_column(String(64))
    jaargroep: Mapped[str | None] = mapped_column(String(4))
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date] = mapped_column(Date)
    licence_type: Mapped[str] = mapped_column(String(32))  # Proef, Regulier, ...
    kind: Mapped[str] = mapped_column(String(8))  # group | pupil
    seats: Mapped[int | None] = mapped_column(Integer)
    seats_used: Mapped[int] = mapped_column(Integer, default=0)


class Coupling(Base):
    __tablename__ = "couplings"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    licence_id: Mapped[str] = mapped_column(String(36), index=True)
    school_id: Mapped[str] = mapped_column(String(16))
    target_kind: Mapped[str] = mapped_column(String(8))  # group | pupil
    target_key: Mapped[str] = mapped_column(String(64))
    coupled_by: Mapped[str] = mapped_column(String(256))
    coupled_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    ended_by: Mapped[str | None] = mapped_column(String(256))
    ended_reason: Mapped[str | None] = mapped_column(String(32))
    __table_args__ = (
        Index("uq_active_coupling", "licence_id", "target_kind", "target_key", unique=True,
              postgresql_where=text("ended_at IS NULL"), sqlite_where=text("ended_at IS NULL")),
        Index("ix_couplings_target", "school_id", "target_kind", "target_key"),
    )


class RightsPush(Base):
    """One grant or revoke of a coupling's right in Basispoort's hosted licence API ("hosted lika").

    Written by the license.coupled / license.decoupled consumer, worked off by the rights pusher
    with retries and backoff. The newest push of a coupling is the coupling's visible state.
    """
    __tablename__ = "rights_pushes"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    coupling_id: Mapped[str] = mapped_column(String(36), index=True)
    licence_id: Mapped[str] = mapped_column(String(36))
    school_id: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(8))  # grant | revoke
    method_id: Mapped[str] = mapped_column(String(200))
    product_id: Mapped[str] = mapped_column(String(200))
    users: Mapped[list] = mapped_column(JSON)  # [{"kind": "pupil"|"staff", "key": ...}] (LAS keys, no ECK iDs)
    state: Mapped[str] = mapped_column(String(12))  # pending | done | failed | superseded
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(String(500))
    note: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    done_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    __table_args__ = (
        Index("ix_rights_pushes_due", "next_attempt_at", postgresql_where=text("state = 'pending'"),
              sqlite_where=text("state = 'pending'")),
    )
