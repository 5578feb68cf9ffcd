"""Engines and sessions for a service's own database."""
from __future__ import annotations

import logging

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

log = logging.getLogger(__name__)
_psycopg_patched = False


def _make_psycopg_cooperative() -> None:
    """Under eventlet, psycopg2 blocks every greenthread during a query unless patched.

    psycogreen installs a wait callback that yields to the eventlet hub; without it one
    slow query stalls the whole service process (measured: see docs/decisions.md).
    """
    global _psycopg_patched
    if _psycopg_patched:
        return
    from eventlet import patcher

    if patcher.is_monkey_patched("socket"):
        from psycogreen.eventlet import patch_psycopg

        patch_psycopg()
        _psycopg_patched = True


def make_engine(url: str, **kwargs) -> Engine:
    if url.startswith("postgresql"):
        _make_psycopg_cooperative()
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 20)
        kwargs.setdefault("pool_pre_ping", True)
        return create_engine(url, **kwargs)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_conn, _record):
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    return engine


def make_session_factory(engine: Engine) -> sessionmaker:
    return sessionmaker(engine, expire_on_commit=False)


def ping(session) -> None:
    """The cheapest statement that proves the database answers (health checks)."""
    session.execute(text("SELECT 1"))


def insert_or_ignore(session, table, values: dict) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING; True if the row was inserted.

    Concurrent inserts of one key by two service instances then wait for each other
    instead of failing the second transaction with a unique violation.
    """
    if session.bind.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return session.execute(insert(table).values(**values).on_conflict_do_nothing()).rowcount == 1
