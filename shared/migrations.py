"""Alembic per service: each service keeps its migrations in services/<name>/migrations."""
from __future__ import annotations

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData

from shared import config
from shared.db import make_engine


def alembic_config(service: str, url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(config.PROJECT_ROOT / "services" / service / "migrations"))
    cfg.set_main_option("sqlalchemy.url", (url or config.database_url(service)).replace("%", "%%"))
    return cfg


def upgrade(service: str, url: str | None = None, revision: str = "head") -> None:
    command.upgrade(alembic_config(service, url), revision)


def run_env(metadata: MetaData) -> None:
    """Body of every service's migrations/env.py (online mode only)."""
    url = context.config.get_main_option("sqlalchemy.url")
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=metadata,
                          render_as_batch=url.startswith("sqlite"))
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()
