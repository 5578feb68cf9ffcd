"""Tables of pupil logins (seed §4 "Pincodes van leerlingen"), in the roster database.

Every row hangs off a pupil or group row with ON DELETE CASCADE, so a login can never outlive
the pupil it belongs to. Secrets (pincode, picture login, home e-mail) are Fernet tokens
(shared.secrets); activation tokens are stored as SHA-256 hashes only.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, ForeignKeyConstraint, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from services.roster.models import Base


class GroupLoginMethod(Base):
    """"Wijzig login methode voor de groep": a group without a row logs in with a pincode."""
    __tablename__ = "group_login_methods"
    school_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    group_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    method: Mapped[str] = mapped_column(String(16))  # pincode | pictures
    changed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    changed_by: Mapped[str] = mapped_column(String(256))
    __table_args__ = (ForeignKeyConstraint(["school_id", "group_key"], ["groups.school_id", "groups.key"],
                                           ondelete="CASCADE"),)


class PupilLogin(Base):
    """A pupil's pincode and picture login (both always exist; the group's method says which counts),
    and the failed-attempt counter that rate-limits verification across all roster processes."""
    __tablename__ = "pupil_logins"
    school_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    pupil_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    pincode_secret: Mapped[str] = mapped_column(Text)  # Fernet token of "0427"
    pictures_secret: Mapped[str] = mapped_column(Text)  # Fernet token of "zon,boot,appel"
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    changed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    changed_by: Mapped[str | None] = mapped_column(String(256))
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_failed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    __table_args__ = (ForeignKeyConstraint(["school_id", "pupil_key"], ["pupils.school_id", "pupils.key"],
                                           ondelete="CASCADE"),)


class HomeLogin(Base):
    """"Thuislogin": one of at most two e-mail addresses per pupil, pending until activated."""
    __tablename__ = "home_logins"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    school_id: Mapped[str] = mapped_column(String(16))
    pupil_key: Mapped[str] = mapped_column(String(64))
    email_secret: Mapped[str] = mapped_column(Text)  # Fernet token of the address
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    activation_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)  # cleared once used
    activation_expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    activated_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    __table_args__ = (ForeignKeyConstraint(["school_id", "pupil_key"], ["pupils.school_id", "pupils.key"],
                                           ondelete="CASCADE"),
                      Index("ix_home_logins_pupil", "school_id", "pupil_key"))
