"""Tables of the gateway (its own database): accounts, their login links, web sessions, login attempts.

Secrets are never stored as such: passwords as argon2 hashes, session and link tokens as SHA-256
digests (a leaked table gives no usable cookie or link).
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Account(Base):
    """A staff member's login. The roster decides which schools and roles it has (by e-mail)."""
    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(256), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(256))  # None until the invitation is used
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    password_set_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class LoginLink(Base):
    """A single-use, expiring link to set a password: an invitation or a reset."""
    __tablename__ = "login_links"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(16))  # invitation | reset
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class WebSession(Base):
    """A logged-in browser or API client; the cookie holds the token, this row its digest."""
    __tablename__ = "web_sessions"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(256))  # the account's, so a request needs one row, not two
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    # the roster's answer to memberships(email), refreshed when older than MEMBERSHIPS_TTL
    memberships: Mapped[list] = mapped_column(JSON, default=list)
    memberships_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    school_id: Mapped[str | None] = mapped_column(String(16))  # "Selecteer school"
    flash: Mapped[dict | None] = mapped_column(JSON)  # one message for the next page (post/redirect/get)


class LoginAttempt(Base):
    """Failed logins and reset requests, counted per e-mail and per client address for rate limits."""
    __tablename__ = "login_attempts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))  # login_failed | reset_requested
    email: Mapped[str] = mapped_column(String(256))
    client: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    __table_args__ = (Index("ix_login_attempts_email", "kind", "email", "at"),
                      Index("ix_login_attempts_client", "kind", "client", "at"))
