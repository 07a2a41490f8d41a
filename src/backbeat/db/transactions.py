"""One transaction per repository operation, timed, retried on deadlocks and lock timeouts;
or the caller's transaction, when one unit of work spans several operations.

Concurrent writers of one guild's queue are serialised by a row lock; lock waits can still
end in a deadlock (MariaDB gap locks, two inserts of a new guild's first row) or, on SQLite,
a busy database. Those transactions are rolled back and run again from the start, a bounded
number of times, and each retry is counted in ``db_operation_retries_total``.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from time import perf_counter
from typing import Final, TypeVar

from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from backbeat.db.engine import READ_ONLY
from backbeat.errors import BackendUnavailableError
from backbeat.observability.logging import get_logger
from backbeat.observability.metrics import (
    db_operation_duration_seconds,
    db_operation_retries_total,
)

T = TypeVar("T")

MAX_ATTEMPTS: Final = 8
_POSTGRES_RETRY_STATES: Final = frozenset({"40001", "40P01", "55P03"})
_MYSQL_RETRY_CODES: Final = frozenset({1020, 1205, 1213})
_SQLITE_RETRY_TEXT: Final = ("database is locked", "database is busy")

_log = get_logger(__name__)


def is_retryable(error: DBAPIError, *, integrity: bool = False) -> bool:
    """Whether running the same transaction again may succeed (deadlock, lock timeout…).

    ``integrity``: a unique-key race (two first inserts of one key) counts as retryable too.
    """
    if isinstance(error, IntegrityError):
        return integrity
    orig = error.orig
    sqlstate = getattr(orig, "sqlstate", None)
    if isinstance(sqlstate, str):
        return sqlstate in _POSTGRES_RETRY_STATES
    args = getattr(orig, "args", ())
    if args and isinstance(args[0], int):
        return args[0] in _MYSQL_RETRY_CODES
    message = str(orig).lower()
    return any(text in message for text in _SQLITE_RETRY_TEXT)


async def _connect(engine: AsyncEngine) -> AsyncConnection:
    """A started connection; any failure to open one (the server cut off mid-handshake: the
    driver's own error, not a DBAPI one) is :class:`BackendUnavailableError`."""
    connection = engine.connect()
    try:
        await connection.start()
    except Exception as error:
        raise BackendUnavailableError("database", str(error)) from error
    return connection


async def in_transaction(
    engine: AsyncEngine,
    operation: str,
    work: Callable[[AsyncConnection], Awaitable[T]],
    *,
    read_only: bool = False,
    retry_integrity: bool = False,
    max_attempts: int = MAX_ATTEMPTS,
) -> T:
    """Run ``work`` in one transaction (committed when it returns) and return its result.

    ``work`` must only touch the database through the connection it gets: it may run
    more than once.
    """
    started = perf_counter()
    try:
        for attempt in range(1, max_attempts + 1):
            try:
                opened = await _connect(engine)
                try:
                    connection = (
                        await opened.execution_options(**{READ_ONLY: True}) if read_only else opened
                    )
                    async with connection.begin():
                        return await work(connection)
                finally:
                    await opened.close()
            except DBAPIError as error:
                if error.connection_invalidated:  # the server went away (cut, restart)
                    raise BackendUnavailableError("database", str(error.orig)) from error
                if attempt == max_attempts or not is_retryable(error, integrity=retry_integrity):
                    raise
                db_operation_retries_total.labels(operation).inc()
                _log.debug("db_retry", operation=operation, attempt=attempt, error=str(error.orig))
                await asyncio.sleep(random.uniform(0, 0.002 * 2**attempt))
            except OSError as error:
                raise BackendUnavailableError("database", str(error)) from error
        raise AssertionError("unreachable")  # pragma: no cover
    finally:
        db_operation_duration_seconds.labels(operation).observe(perf_counter() - started)


async def transact(
    engine: AsyncEngine,
    operation: str,
    work: Callable[[AsyncConnection], Awaitable[T]],
    *,
    conn: AsyncConnection | None = None,
    read_only: bool = False,
    retry_integrity: bool = False,
    max_attempts: int = MAX_ATTEMPTS,
) -> T:
    """Run a repository operation's ``work``: on ``conn`` when given, else in its own
    transaction (:func:`in_transaction` with the other options).

    With ``conn`` the work joins the caller's open transaction: nothing is committed and
    nothing retried here, the caller's ``in_transaction`` retries its whole unit of work.
    """
    if conn is None:
        return await in_transaction(
            engine,
            operation,
            work,
            read_only=read_only,
            retry_integrity=retry_integrity,
            max_attempts=max_attempts,
        )
    if not conn.in_transaction():
        raise RuntimeError(f"{operation}: the given connection has no open transaction")
    return await work(conn)
