"""Test fixtures. eventlet first: nameko's pytest plugin no longer monkey-patches for us."""
import eventlet

eventlet.monkey_patch()

import os  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import pytest  # noqa: E402

warnings.filterwarnings("ignore", category=DeprecationWarning)

from shared import config as koppel_config  # noqa: E402

PG_BASE = os.environ.get("KOPPEL_TEST_PG", "postgresql+psycopg2://postgres@127.0.0.1:5432")
DB_PREFIX = os.environ.get("KOPPEL_TEST_DB_PREFIX", "koppel_test")


def wait_for(predicate, timeout=15.0, interval=0.05, message="condition"):
    """Poll until predicate() is truthy; returns its value. For effects that cross the broker."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        eventlet.sleep(interval)


@pytest.fixture(scope="session")
def pg_urls():
    """One fresh PostgreSQL database per service, migrated with its alembic history."""
    from sqlalchemy import create_engine, text

    from shared.migrations import upgrade

    admin = create_engine(f"{PG_BASE}/postgres", isolation_level="AUTOCOMMIT")
    urls = {}
    with admin.connect() as conn:
        for service in koppel_config.SERVICES:
            name = f"{DB_PREFIX}_{service}"
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
            urls[service] = f"{PG_BASE}/{name}"
    admin.dispose()
    for service, url in urls.items():
        upgrade(service, url)
        os.environ[f"{service.upper()}_DATABASE_URL"] = url
    return urls


@pytest.fixture(scope="session")
def pg_engines(pg_urls):
    from shared.db import make_engine

    engines = {service: make_engine(url) for service, url in pg_urls.items()}
    yield engines
    for engine in engines.values():
        engine.dispose()


@pytest.fixture
def databases(pg_engines):
    """Empty tables in every service database before the test (schema stays migrated)."""
    from sqlalchemy import inspect, text

    for engine in pg_engines.values():
        tables = [t for t in inspect(engine).get_table_names() if t != "alembic_version"]
        if tables:
            with engine.begin() as conn:
                conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
    return pg_engines


@pytest.fixture
def sessions(databases):
    """A session factory per service database, for arranging and checking state."""
    from shared.db import make_session_factory

    return {service: make_session_factory(engine) for service, engine in databases.items()}


@pytest.fixture
def service_config(rabbit_config, web_config):
    return {**rabbit_config, **web_config, "serializer": "json", "max_workers": 20}


@pytest.fixture
def start_services(container_factory, service_config, databases):
    """Start real service containers (real RabbitMQ vhost, real PostgreSQL) by name."""
    from services.gateway.service import GatewayService
    from services.licensing.service import LicensingService
    from services.results.service import ResultsService
    from services.roster.service import RosterService

    classes = {"roster": RosterService, "licensing": LicensingService, "results": ResultsService,
               "gateway": GatewayService}

    def start(*names, config=None):
        containers = []
        for name in names:
            container = container_factory(classes[name], config or service_config)
            container.start()
            containers.append(container)
        return containers[0] if len(containers) == 1 else containers

    return start


class _Session:
    """requests.Session bound to the gateway's base URL (nameko's own web_session needs
    werkzeug.urls.url_join, which werkzeug 3 removed)."""

    def __init__(self, base):
        import requests

        self.base = base
        self.http = requests.Session()

    def request(self, method, path, **kwargs):
        kwargs.setdefault("timeout", 10)
        return self.http.request(method, self.base + path, **kwargs)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def put(self, path, **kw):
        return self.request("PUT", path, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)


@pytest.fixture
def web_session(web_config_port):
    session = _Session(f"http://127.0.0.1:{web_config_port}")
    yield session
    session.http.close()
