"""Tables of the gateway (its own database): accounts and sessions arrive with the admin UI."""
from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass
