"""Configuration from environment variables, with defaults that work for `make run`."""
from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SERVICES = ("roster", "licensing", "results", "gateway")
DEFAULT_AMQP_URI = "amqp://guest:guest@localhost:5672/"


def var_dir() -> Path:
    path = Path(os.environ.get("KOPPEL_VAR_DIR", PROJECT_ROOT / "var"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def amqp_uri() -> str:
    return os.environ.get("AMQP_URI", DEFAULT_AMQP_URI)


def database_url(service: str) -> str:
    """`<SERVICE>_DATABASE_URL`, else an SQLite file under var/ (the embedded default)."""
    env = f"{service.upper()}_DATABASE_URL"
    return os.environ.get(env) or f"sqlite:///{var_dir() / (service + '.db')}"


def setting(name: str, default: str) -> str:
    return os.environ.get(name, default)


def float_setting(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


def nameko_config() -> dict:
    """Config for nameko containers started outside `nameko run` (CLI, benches)."""
    return {"AMQP_URI": amqp_uri(), "serializer": "json"}
