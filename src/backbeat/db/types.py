"""Column types that behave the same on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, DateTime, Text, any_, bindparam
from sqlalchemy.dialects import mysql, postgresql
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import QueryableAttribute
from sqlalchemy.types import TypeDecorator, TypeEngine

#: The column type of every timestamp in migrations: microseconds on MariaDB as well.
TIMESTAMP_TYPE: TypeEngine[Any] = DateTime(timezone=True).with_variant(
    mysql.DATETIME(fsp=6), "mysql", "mariadb"
)

#: Long text without an index: ``TEXT`` on SQLite and PostgreSQL, ``MEDIUMTEXT`` (16 MiB) on
#: MariaDB, whose ``TEXT`` holds only 65,535 bytes (16,383 four-byte characters).
LongText: TypeEngine[str] = Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend.

    PostgreSQL stores ``timestamptz``; SQLite and MariaDB have no zone, so values are stored
    as naive UTC and come back with ``tzinfo=UTC``. Naive datetimes are refused on the way in,
    because their meaning would depend on the machine's clock settings.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name in {"mysql", "mariadb"}:
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("timestamps must be timezone-aware")
        value = value.astimezone(UTC)
        return value if dialect.name == "postgresql" else value.replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utc_now() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def one_of(
    column: ColumnElement[Any] | QueryableAttribute[Any], values: Iterable[Any], dialect: str
) -> ColumnElement[bool]:
    """``column IN (values)``. On PostgreSQL ``column = ANY(:array)``: one statement text
    whatever the number of values, so one prepared statement serves every call (an ``IN``
    list of each length is a statement of its own in the driver's statement cache)."""
    listed = list(values)
    if dialect == "postgresql":
        return column == any_(bindparam(None, listed, type_=postgresql.ARRAY(column.type)))
    return column.in_(listed)
