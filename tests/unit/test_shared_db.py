"""shared.db's bulk helpers on an in-memory SQLite (the PostgreSQL paths run in tests/integration)."""
from sqlalchemy import Column, Integer, MetaData, String, Table, func, select

from shared.db import bulk_insert, insert_rows_or_ignore, make_engine, make_session_factory

metadata = MetaData()
things = Table("things", metadata, Column("key", String, primary_key=True), Column("n", Integer, nullable=False))


def _session():
    engine = make_engine("sqlite://")
    metadata.create_all(engine)
    return make_session_factory(engine)()


def test_bulk_insert_of_no_rows_inserts_nothing():
    with _session() as s, s.begin():
        bulk_insert(s, things, [])
        assert s.scalar(select(func.count()).select_from(things)) == 0
        bulk_insert(s, things, [{"key": f"k{i}", "n": i} for i in range(30)])
        assert s.scalar(select(func.count()).select_from(things)) == 30


def test_insert_rows_or_ignore_keeps_existing_rows_and_spans_chunks():
    with _session() as s, s.begin():
        bulk_insert(s, things, [{"key": "k1", "n": 1}])
        insert_rows_or_ignore(s, things, [{"key": f"k{i}", "n": 100 + i} for i in range(7)], chunk=3)
        insert_rows_or_ignore(s, things, [])
        rows = dict(s.execute(select(things.c.key, things.c.n)).all())
    assert len(rows) == 7 and rows["k1"] == 1 and rows["k6"] == 106
