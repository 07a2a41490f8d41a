"""Throw-away databases and Redis key prefixes on real servers, for tests and benchmarks.

Each run gets its own database (``backbeat_test_<run>_<n>``) and Redis key prefix
(``bbtest:<run>:``), so concurrent runs on one machine never see each other's data.
Server URLs come from ``BACKBEAT_TEST_POSTGRES_URL``, ``BACKBEAT_TEST_MARIADB_URL`` and
``BACKBEAT_TEST_REDIS_URL``, defaulting to the local servers.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import threading
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, Final, TypeVar

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

DB_BACKENDS: Final = ("sqlite", "postgresql", "mariadb")
BUS_BACKENDS: Final = ("memory", "redis")

DEFAULT_SERVER_URLS: Final = {
    "postgresql": "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres",
    "mariadb": "mysql+aiomysql://root@127.0.0.1:3306/mysql",
    "redis": "redis://127.0.0.1:6379/0",
}
_URL_VARIABLES: Final = {
    "postgresql": "BACKBEAT_TEST_POSTGRES_URL",
    "mariadb": "BACKBEAT_TEST_MARIADB_URL",
    "redis": "BACKBEAT_TEST_REDIS_URL",
}
_ASYNC_DRIVERS: Final = {
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
    "mysql": "mysql+aiomysql",
    "mariadb": "mysql+aiomysql",
}

T = TypeVar("T")


def server_url(backend: str) -> str:
    """The URL of the server for a backend (an admin database for SQL backends)."""
    url = os.environ.get(_URL_VARIABLES[backend]) or DEFAULT_SERVER_URLS[backend]
    scheme, sep, rest = url.partition("://")
    if backend != "redis" and "+" not in scheme:
        url = f"{_ASYNC_DRIVERS.get(scheme, scheme)}{sep}{rest}"
    return url


def new_run_id() -> str:
    """A short random id that names one run's databases and key prefix."""
    return secrets.token_hex(4)


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion in a private thread, safe inside a running event loop."""
    result: list[T] = []
    error: list[BaseException] = []

    def target() -> None:
        try:
            result.append(asyncio.run(coro))
        except BaseException as exc:
            error.append(exc)

    thread = threading.Thread(target=target, name="backbeat-run-sync")
    thread.start()
    thread.join()
    if error:
        raise error[0]
    return result[0]


async def _admin_execute(admin_url: str, statement: str) -> None:
    engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


async def create_database(backend: str, name: str, *, sqlite_dir: Path) -> str:
    """Create an empty database and return its async SQLAlchemy URL."""
    if backend == "sqlite":
        path = sqlite_dir / f"{name}.db"
        path.unlink(missing_ok=True)
        return f"sqlite+aiosqlite:///{path.as_posix()}"
    admin = make_url(server_url(backend))
    if backend == "postgresql":
        await _admin_execute(
            admin.render_as_string(hide_password=False), f'CREATE DATABASE "{name}"'
        )
    else:
        await _admin_execute(
            admin.render_as_string(hide_password=False),
            f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci",
        )
    return admin.set(database=name).render_as_string(hide_password=False)


def _remove_sqlite_files(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)


async def drop_database(backend: str, url: str) -> None:
    """Drop a database made by :func:`create_database` (closing other sessions on PostgreSQL)."""
    parsed = make_url(url)
    if backend == "sqlite":
        if parsed.database:
            _remove_sqlite_files(Path(parsed.database))
        return
    admin = make_url(server_url(backend)).render_as_string(hide_password=False)
    name = parsed.database
    if backend == "postgresql":
        await _admin_execute(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        await _admin_execute(admin, f"DROP DATABASE IF EXISTS `{name}`")


async def delete_redis_prefix(url: str, prefix: str) -> int:
    """Delete every key under a prefix; returns how many."""
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(url)
    deleted = 0
    try:
        batch: list[bytes] = []
        async for key in client.scan_iter(match=f"{prefix}*", count=1000):
            batch.append(key)
            if len(batch) >= 500:
                deleted += await client.delete(*batch)
                batch.clear()
        if batch:
            deleted += await client.delete(*batch)
    finally:
        await client.aclose()
    return deleted
