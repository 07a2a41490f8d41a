"""What the components of one process share: settings, the status server, the bus, the database.

One :class:`ProcessContext` is made per process by the runner. Shared resources are created
on first use and closed in reverse order of creation when the process ends, after every
component has stopped:

* :meth:`ProcessContext.bus`: ``backbeat.bus.factory.create_bus(settings)``, one object for
  the whole process, so on the embedded default every component talks over the *same*
  in-process bus. With Redis it is pinged once when made. Adds the ``bus`` readiness check.
* :meth:`ProcessContext.database`: the async engine of ``settings.database.url``. A SQLite
  database (the embedded default) is created and migrated to the newest schema on first use,
  so ``backbeat run`` works on a fresh machine; PostgreSQL and MariaDB must already be at the
  newest schema (``backbeat migrate``). Adds the ``database`` readiness check (``SELECT 1``).
* :meth:`ProcessContext.shared`: any other resource, made once under a key.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar, cast

from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from backbeat.bus.factory import create_bus
from backbeat.bus.redis_store import RedisStreamStore
from backbeat.bus.streams import StreamBus
from backbeat.config import Settings, mask_url
from backbeat.db.engine import READ_ONLY, create_engine
from backbeat.db.migrate import current_revision, head_revision, migrate_to
from backbeat.errors import BackendUnavailableError
from backbeat.observability.logging import get_logger
from backbeat.observability.status import StatusServer
from backbeat.runtime.errors import SchemaNotCurrentError

T = TypeVar("T")

BUS_CHECK = "bus"
DATABASE_CHECK = "database"

_log = get_logger(__name__)


class ProcessContext:
    """Settings, the status server and the shared resources of one process's components."""

    def __init__(self, settings: Settings, status: StatusServer) -> None:
        self.settings = settings
        self.status = status
        self._resources: dict[str, Any] = {}
        self._closers: list[tuple[str, Callable[[], Awaitable[None]]]] = []
        self._locks: dict[str, asyncio.Lock] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._failure: asyncio.Future[BaseException] | None = None
        self._closed = False

    # -- shared resources -------------------------------------------------------------------

    async def shared(
        self,
        key: str,
        create: Callable[[], Awaitable[T]],
        close: Callable[[T], Awaitable[None]] | None = None,
    ) -> T:
        """The resource under ``key``, made by ``create`` on first use; ``close`` runs at exit.

        Concurrent first calls wait for one ``create``; a failed ``create`` is tried again by
        the next call.
        """
        if key in self._resources:
            return cast(T, self._resources[key])
        if self._closed:
            raise RuntimeError("the process context is closed")
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            if key not in self._resources:
                resource = await create()
                self._resources[key] = resource
                if close is not None:
                    self._closers.append((key, _bind(close, resource)))
        return cast(T, self._resources[key])

    async def bus(self) -> StreamBus:
        """The process's one bus (Redis when ``BACKBEAT_REDIS_URL`` is set, else in-process)."""
        return await self.shared("bus", self._create_bus, _close_bus)

    async def database(self) -> AsyncEngine:
        """The process's one database engine, schema current (SQLite migrated on first use)."""
        return await self.shared("database", self._create_database, _dispose)

    async def _create_bus(self) -> StreamBus:
        bus = create_bus(self.settings)
        if isinstance(bus.store, RedisStreamStore):
            url = mask_url(self.settings.bus.redis_url or "")
            try:
                await bus.store.client.ping()
            except (RedisError, OSError) as error:
                await bus.close()
                raise BackendUnavailableError("redis", f"{url}: {error}") from error
            _log.info("bus connected", backend="redis", url=url)
        else:
            _log.info("bus created", backend="in-process")
        self.status.add_readiness_check(BUS_CHECK, _bus_check(bus))
        return bus

    async def _create_database(self) -> AsyncEngine:
        url = self.settings.database.url
        shown = mask_url(url)
        sqlite = make_url(url).get_backend_name() == "sqlite"
        directory = _sqlite_directory(url)
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url)
        try:
            if sqlite:
                result = await migrate_to(engine, "head")
                if result.direction != "none":
                    _log.info(
                        "database migrated",
                        url=shown,
                        before=result.before or "base",
                        after=result.after,
                    )
            else:
                current, head = await current_revision(engine), head_revision()
                if current != head:
                    raise SchemaNotCurrentError(shown, current, head)
        except (DBAPIError, OperationalError, OSError) as error:
            await engine.dispose()
            raise BackendUnavailableError("database", f"{shown}: {_one_line(error)}") from error
        except BaseException:
            await engine.dispose()
            raise
        _log.info("database ready", url=shown)
        self.status.add_readiness_check(DATABASE_CHECK, _database_check(engine))
        return engine

    # -- supervised tasks -------------------------------------------------------------------

    def create_task(self, coro: Coroutine[Any, Any, Any], *, name: str) -> asyncio.Task[Any]:
        """Run ``coro`` as a task the process watches: if it raises, the process stops (exit 1).

        Cancel and await it in the component's ``stop``; tasks still running when every
        component has stopped are cancelled by the process.
        """
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def fail(self, error: BaseException) -> None:
        """Stop the whole process because of ``error`` (exit code 1); the first failure wins."""
        future = self._failure_future()
        if not future.done():
            future.set_result(error)

    @property
    def failure(self) -> asyncio.Future[BaseException]:
        """Resolves with the first failure reported by :meth:`fail` or a supervised task."""
        return self._failure_future()

    def _failure_future(self) -> asyncio.Future[BaseException]:
        if self._failure is None:
            self._failure = asyncio.get_running_loop().create_future()
        return self._failure

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        error = task.exception()
        if error is not None:
            _log.error("task failed", task=task.get_name(), error=repr(error))
            self.fail(error)

    # -- shutdown ---------------------------------------------------------------------------

    async def close(self) -> None:
        """Cancel leftover tasks, then close the shared resources in reverse order of creation."""
        self._closed = True
        leftover = [task for task in self._tasks if not task.done()]
        for task in leftover:
            task.cancel()
        if leftover:
            _log.warning("tasks cancelled at exit", tasks=sorted(t.get_name() for t in leftover))
            await asyncio.gather(*leftover, return_exceptions=True)
        while self._closers:
            key, closer = self._closers.pop()
            try:
                await closer()
            except Exception as error:  # closing must go on with the others
                _log.warning("closing a shared resource failed", resource=key, error=repr(error))
        self._resources.clear()


def _bind(close: Callable[[T], Awaitable[None]], resource: T) -> Callable[[], Awaitable[None]]:
    async def closer() -> None:
        await close(resource)

    return closer


async def _close_bus(bus: StreamBus) -> None:
    await bus.close()


async def _dispose(engine: AsyncEngine) -> None:
    await engine.dispose()


def _bus_check(bus: StreamBus) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        if isinstance(bus.store, RedisStreamStore):
            return bool(await bus.store.client.ping())
        return True

    return check


def _database_check(engine: AsyncEngine) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        async with engine.connect() as opened:
            connection = await opened.execution_options(**{READ_ONLY: True})
            await connection.execute(text("SELECT 1"))
        return True

    return check


def _sqlite_directory(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    if parsed.database == ":memory:":
        return None
    return Path(parsed.database).parent


def _one_line(error: BaseException) -> str:
    cause = error.orig if isinstance(error, DBAPIError) and error.orig is not None else error
    words = " ".join(str(cause).split())
    return f"{type(cause).__name__}: {words}" if words else type(cause).__name__
