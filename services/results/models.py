"""Tables of the results service (its own database)."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.messaging import Messaging


class Base(DeclarativeBase):
    pass


messaging = Messaging("results", Base.metadata)


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
