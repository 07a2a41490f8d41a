"""The declarative base every table shares, with a constraint naming convention.

Named constraints make Alembic migrations identical on SQLite, PostgreSQL and MariaDB
(no server-generated names to chase when a constraint is altered or dropped).
"""

from __future__ import annotations

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Base class of every Backbeat table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
