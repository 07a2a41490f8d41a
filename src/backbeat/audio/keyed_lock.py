"""One table of locks by key, each created when first needed and dropped when unused.

A worker holding thousands of guilds needs a lock per guild only while a guild's work runs
or waits: an :class:`asyncio.Lock` (with the waiter deque it keeps after its first
contention) per idle guild is memory for nothing. :class:`KeyedLocks` keeps a lock only
while someone holds it or waits for it; :meth:`KeyedLocks.of` gives a handle with the
:class:`asyncio.Lock` interface (``acquire``, ``release``, ``locked``, ``async with``), so a
key's lock behaves as one lock would: FIFO among its waiters, a cancelled wait takes nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Hashable
from types import TracebackType
from typing import Generic, Literal, TypeVar

K = TypeVar("K", bound=Hashable)


class _Entry:
    """A key's lock and how many tasks hold it or wait for it."""

    __slots__ = ("lock", "users")

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.users = 0


class KeyedLocks(Generic[K]):
    """Locks by key, present only while held or awaited."""

    __slots__ = ("_entries",)

    def __init__(self) -> None:
        self._entries: dict[K, _Entry] = {}

    def __len__(self) -> int:
        """Keys whose lock is held or awaited now."""
        return len(self._entries)

    def of(self, key: K) -> KeyLock[K]:
        return KeyLock(self, key)

    def locked(self, key: K) -> bool:
        entry = self._entries.get(key)
        return entry is not None and entry.lock.locked()

    async def acquire(self, key: K) -> Literal[True]:
        entry = self._entries.get(key)
        if entry is None:
            entry = self._entries[key] = _Entry()
        entry.users += 1
        try:
            return await entry.lock.acquire()
        except BaseException:  # cancelled while waiting: not taken
            self._leave(key, entry)
            raise

    def release(self, key: K) -> None:
        """Release ``key``'s lock (RuntimeError if it is not held, as ``asyncio.Lock``)."""
        entry = self._entries.get(key)
        if entry is None:
            raise RuntimeError("Lock is not acquired.")
        entry.lock.release()
        self._leave(key, entry)

    def _leave(self, key: K, entry: _Entry) -> None:
        entry.users -= 1
        if not entry.users:  # nobody holds or waits: a later acquire makes a new one
            del self._entries[key]


class KeyLock(Generic[K]):
    """One key's lock in a :class:`KeyedLocks`, with the :class:`asyncio.Lock` interface."""

    __slots__ = ("_key", "_locks")

    def __init__(self, locks: KeyedLocks[K], key: K) -> None:
        self._locks = locks
        self._key = key

    async def acquire(self) -> Literal[True]:
        return await self._locks.acquire(self._key)

    def release(self) -> None:
        self._locks.release(self._key)

    def locked(self) -> bool:
        return self._locks.locked(self._key)

    async def __aenter__(self) -> None:
        await self._locks.acquire(self._key)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._locks.release(self._key)
