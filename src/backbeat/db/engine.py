"""Engine factory: one async engine per database URL, set up the same way everywhere.

* SQLite: WAL journal, a busy timeout, foreign keys on, and ``BEGIN IMMEDIATE`` for every
  transaction that may write, so writers queue for the database lock up front instead of
  failing midway with "database is locked" when a read lock cannot be upgraded.
* MariaDB/MySQL: ``READ COMMITTED`` (as PostgreSQL's default), so a transaction that waited
  for a row lock reads the rows as they are after the lock holder committed.
"""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

SQLITE_BUSY_TIMEOUT_MS: Final = 30_000
READ_ONLY: Final = "backbeat_read_only"
"""Execution option: this transaction only reads (SQLite then begins a deferred transaction)."""


def create_engine(url: str, *, echo: bool = False, pool_size: int = 5) -> AsyncEngine:
    """An :class:`AsyncEngine` for a sqlite+aiosqlite, postgresql+asyncpg or mysql+aiomysql URL."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    options: dict[str, Any] = {"echo": echo, "pool_pre_ping": backend != "sqlite"}
    if backend == "sqlite":
        engine = create_async_engine(url, **options)
        _configure_sqlite(engine)
        return engine
    options.update(pool_size=pool_size, max_overflow=pool_size * 2, pool_recycle=3600)
    if backend in {"mysql", "mariadb"}:
        options["isolation_level"] = "READ COMMITTED"
    return create_async_engine(url, **options)


def backend_name(engine: AsyncEngine) -> str:
    """``sqlite``, ``postgresql`` or ``mysql`` (MariaDB reports ``mysql``)."""
    name = engine.dialect.name
    return "mysql" if name == "mariadb" else name


def _configure_sqlite(engine: AsyncEngine) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # Take transaction control away from the driver: we emit BEGIN ourselves below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        read_only = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")
