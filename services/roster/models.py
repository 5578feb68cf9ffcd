"""Tables of the roster service (its own database)."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Date, DateTime, ForeignKeyConstraint, Index, Integer, String, Text, false
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.messaging import Messaging


class Base(DeclarativeBase):
    pass


messaging = Messaging("roster", Base.metadata)


class School(Base):
    __tablename__ = "schools"
    id: Mapped[str] = mapped_column(String(16), primary_key=True)  # BRIN + dependance, e.g. 99ZZ00
    brin: Mapped[str] = mapped_column(String(4))
    dependance: Mapped[str] = mapped_column(String(2))
    name: Mapped[str | None] = mapped_column(String(200))
    schooljaar: Mapped[str | None] = mapped_column(String(9))
    sequence: Mapped[int] = mapped_column(Integer, default=0)  # applied syncs that changed something
    last_sync_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    basispoort_id: Mapped[str | None] = mapped_column(String(64))  # Basispoort's instelling id
    __table_args__ = (Index("ux_schools_basispoort_id", "basispoort_id", unique=True),)


class Group(Base):
    __tablename__ = "groups"
    school_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    jaargroep: Mapped[str | None] = mapped_column(String(4))
    composite: Mapped[bool] = mapped_column(default=False)
    __table_args__ = (ForeignKeyConstraint(["school_id"], ["schools.id"]),)


class Pupil(Base):
    __tablename__ = "pupils"
    school_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_name: Mapped[str] = mapped_column(String(200))
    first_name: Mapped[str | None] = mapped_column(String(200))
    prefix: Mapped[str | None] = mapped_column(String(50))
    jaargroep: Mapped[str | None] = mapped_column(String(4))
    group_key: Mapped[str | None] = mapped_column(String(64))
    composite_groups: Mapped[list] = mapped_column(JSON, default=list)
    eckid: Mapped[str | None] = mapped_column(String(256))  # a pseudonym: never logged
    __table_args__ = (ForeignKeyConstraint(["school_id"], ["schools.id"]),
                      Index("ix_pupils_group", "school_id", "group_key"))


class Staff(Base):
    __tablename__ = "staff"
    school_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_name: Mapped[str] = mapped_column(String(200))
    first_name: Mapped[str | None] = mapped_column(String(200))
    prefix: Mapped[str | None] = mapped_column(String(50))
    email: Mapped[str | None] = mapped_column(String(256), index=True)  # one person, several schools
    roles: Mapped[list] = mapped_column(JSON, default=list)
    groups: Mapped[list] = mapped_column(JSON, default=list)
    eckid: Mapped[str | None] = mapped_column(String(256))
    # derived from roles on every write, so "ICT-coördinatoren" is an indexed filter, not a JSON scan
    ict_coordinator: Mapped[bool] = mapped_column(default=False, server_default=false())
    __table_args__ = (ForeignKeyConstraint(["school_id"], ["schools.id"]),)


class SyncRun(Base):
    """One intake of one school: applied, pending approval (mass-deletion guard), or rejected."""
    __tablename__ = "sync_runs"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    school_id: Mapped[str] = mapped_column(String(16), index=True)
    source: Mapped[str] = mapped_column(String(16))  # edexml | basispoort
    status: Mapped[str] = mapped_column(String(16))  # applied | pending | approved | superseded | failed
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    applied_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    summary: Mapped[dict] = mapped_column(JSON, default=dict)
    snapshot: Mapped[dict | None] = mapped_column(JSON)  # kept only while pending
    error: Mapped[str | None] = mapped_column(Text)  # why a pull failed (never personal data)


class NightlySync(Base):
    """One row per night: inserting it is how one roster process claims that night's Basispoort sync."""
    __tablename__ = "nightly_syncs"
    run_date: Mapped[dt.date] = mapped_column(Date, primary_key=True)  # local date of the scheduled time
    claimed_by: Mapped[str] = mapped_column(String(200))  # host:pid of the process that runs it
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    summary: Mapped[dict | None] = mapped_column(JSON)
