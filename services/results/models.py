"""Tables of the results service (its own database)."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.messaging import Messaging


class Base(DeclarativeBase):
    pass


messaging = Messaging("results", Base.metadata)
BigId = BigInteger().with_variant(Integer, "sqlite")


class LicenceCouplingRecord(Base):
    """What results knows of licence couplings (from license.coupled / license.decoupled):
    which groups and pupils practise with which method, so their results may be exported."""
    __tablename__ = "licence_couplings"
    coupling_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    school_id: Mapped[str] = mapped_column(String(16), index=True)
    licence_id: Mapped[str] = mapped_column(String(36))
    method: Mapped[str | None] = mapped_column(String(200))
    target_kind: Mapped[str] = mapped_column(String(8))
    target_key: Mapped[str] = mapped_column(String(64))
    coupled_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class SchoolConsent(Base):
    """The school's consent ("toestemming") to send results to its LVS. No row: not given."""
    __tablename__ = "school_consent"
    school_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    given: Mapped[bool] = mapped_column(Boolean)
    changed_by: Mapped[str] = mapped_column(String(256))
    changed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class ConsentChange(Base):
    """Every change of consent, kept: who turned it on or off, and when."""
    __tablename__ = "consent_changes"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    school_id: Mapped[str] = mapped_column(String(16), index=True)
    given: Mapped[bool] = mapped_column(Boolean)
    changed_by: Mapped[str] = mapped_column(String(256))
    changed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class LvsCoupling(Base):
    """A school's coupling to its LVS ("resultaatkoppeling"): where to send, with which key.

    `key_encrypted` is the authorisation key under shared.secrets; only `key_hint` is shown.
    `key_version` grows with every key change, so an export outcome computed with an old key
    never overwrites the status of a new one. Removed couplings are kept (removed_at) for audit.
    """
    __tablename__ = "lvs_couplings"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    school_id: Mapped[str] = mapped_column(String(16))
    lvs: Mapped[str] = mapped_column(String(32))
    endpoint_url: Mapped[str | None] = mapped_column(String(500))
    key_encrypted: Mapped[str] = mapped_column(Text)
    key_hint: Mapped[str] = mapped_column(String(32))
    key_version: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    last_export_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    last_export_count: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    key_changed_by: Mapped[str] = mapped_column(String(256))
    key_changed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    removed_by: Mapped[str | None] = mapped_column(String(256))
    removed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index("ix_lvs_couplings_school", "school_id"),
        # one live coupling per school and LVS; "other" LVSs are told apart by their endpoint
        Index("uq_lvs_couplings_live_lvs", "school_id", "lvs", unique=True,
              postgresql_where=text("removed_at IS NULL AND lvs <> 'other'"),
              sqlite_where=text("removed_at IS NULL AND lvs <> 'other'")),
        Index("uq_lvs_couplings_live_other", "school_id", "endpoint_url", unique=True,
              postgresql_where=text("removed_at IS NULL AND lvs = 'other'"),
              sqlite_where=text("removed_at IS NULL AND lvs = 'other'")),
    )


class LvsSender(Base):
    """One row per LVS coupling, held FOR UPDATE by the process that is sending to it.

    Kept apart from lvs_couplings so that a coordinator changing the key or removing the
    coupling never waits for an HTTP call in flight; SKIP LOCKED lets other exporters pass by.
    """
    __tablename__ = "lvs_senders"
    coupling_id: Mapped[str] = mapped_column(ForeignKey("lvs_couplings.id"), primary_key=True)


class PracticeResult(Base):
    """A practice result waiting for, or already part of, an export (test results are never stored)."""
    __tablename__ = "practice_results"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    school_id: Mapped[str] = mapped_column(String(16))
    result_key: Mapped[str] = mapped_column(String(256))
    pupil_key: Mapped[str] = mapped_column(String(256))
    eckid: Mapped[str | None] = mapped_column(String(256))
    method: Mapped[str] = mapped_column(String(256))
    exercise_code: Mapped[str] = mapped_column(String(256))
    exercise_name: Mapped[str] = mapped_column(String(128))
    score: Mapped[int] = mapped_column(Integer)
    taken_on: Mapped[dt.date] = mapped_column(Date)
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("uq_practice_results_key", "school_id", "result_key", unique=True),)


class ExportBatchRecord(Base):
    """One attempt to deliver one batch to one LVS coupling, successful or not."""
    __tablename__ = "export_batches"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    coupling_id: Mapped[str] = mapped_column(ForeignKey("lvs_couplings.id"), index=True)
    school_id: Mapped[str] = mapped_column(String(16))
    result_count: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(16))  # sent | failed
    failure: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class ResultDelivery(Base):
    """Tracking: result X is owed to coupling Y; `batch_id` set once the LVS confirmed it.

    Created with the result, for every live coupling of the school, so a coupling only
    receives results recorded after it was added. A delivery is never created twice
    (primary key) and never sent again once it carries a batch id.
    """
    __tablename__ = "result_deliveries"
    coupling_id: Mapped[str] = mapped_column(ForeignKey("lvs_couplings.id"), primary_key=True)
    result_id: Mapped[int] = mapped_column(BigId, ForeignKey("practice_results.id"), primary_key=True)
    batch_id: Mapped[str | None] = mapped_column(ForeignKey("export_batches.id"))

    __table_args__ = (
        Index("ix_result_deliveries_pending", "coupling_id", "result_id",
              postgresql_where=text("batch_id IS NULL"), sqlite_where=text("batch_id IS NULL")),
    )


def as_utc(value: dt.datetime | None) -> dt.datetime | None:
    """Timestamps are stored in UTC; SQLite (make run) hands them back without a zone."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value
