"""Where cached values live: Redis when the deployment has one, else this process's memory.

A :class:`CacheStore` holds bytes under string keys with a time to live, counts uses of
a fixed window (``hit``) for rate limiting, and hands out short leases (``claim``: the
gateway's identify pacing across processes). Both stores behave alike; losing what they hold
is always safe (SQL is the record).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

from backbeat.errors import BackendUnavailableError

Clock = Callable[[], float]


@dataclass(frozen=True, slots=True)
class WindowCount:
    """Uses counted in the current window (this one included) and ms until it resets."""

    count: int
    reset_ms: int


class CacheStore(Protocol):
    """Bytes with a TTL, and fixed-window counters."""

    async def get(self, key: str) -> bytes | None: ...

    async def set(self, key: str, value: bytes, *, ttl_s: float) -> None: ...

    async def delete(self, key: str) -> None: ...

    async def hit(self, key: str, *, window_ms: int) -> WindowCount:
        """Count one use; the window starts with the first use and lasts ``window_ms``."""
        ...

    async def claim(self, key: str, *, ttl_s: float) -> float:
        """Take ``key`` for ``ttl_s`` unless someone holds it: 0.0 when taken, else the
        seconds until the holder's lease ends (then try again). Leases are never released
        early: they space out whatever they guard."""
        ...

    async def close(self) -> None: ...


class MemoryCacheStore:
    """The in-process store (embedded default); ``clock`` is injectable for tests."""

    def __init__(self, clock: Clock = time.monotonic, *, max_entries: int = 100_000) -> None:
        self._clock = clock
        self._max = max_entries
        self._values: dict[str, tuple[bytes, float]] = {}
        self._windows: dict[str, tuple[int, float]] = {}

    async def get(self, key: str) -> bytes | None:
        found = self._values.get(key)
        if found is None:
            return None
        value, expires = found
        if self._clock() >= expires:
            del self._values[key]
            return None
        return value

    async def set(self, key: str, value: bytes, *, ttl_s: float) -> None:
        if len(self._values) >= self._max and key not in self._values:
            self._evict(self._values)
        self._values[key] = (value, self._clock() + ttl_s)

    async def delete(self, key: str) -> None:
        self._values.pop(key, None)
        self._windows.pop(key, None)

    async def hit(self, key: str, *, window_ms: int) -> WindowCount:
        now = self._clock()
        count, expires = self._windows.get(key, (0, 0.0))
        if now >= expires:
            if len(self._windows) >= self._max:
                self._evict(self._windows)
            count, expires = 0, now + window_ms / 1000
        count += 1
        self._windows[key] = (count, expires)
        return WindowCount(count, max(0, round((expires - now) * 1000)))

    async def claim(self, key: str, *, ttl_s: float) -> float:
        now = self._clock()
        found = self._values.get(key)
        if found is not None and now < found[1]:
            return found[1] - now
        await self.set(key, b"1", ttl_s=ttl_s)
        return 0.0

    async def close(self) -> None:
        self._values.clear()
        self._windows.clear()

    def _evict(self, table: dict[str, Any]) -> None:
        """Drop expired entries, then the oldest ones, until there is room for one more."""
        now = self._clock()
        for key in [k for k, entry in table.items() if entry[1] <= now]:
            del table[key]
        while len(table) >= self._max:
            del table[next(iter(table))]


# INCR, then start the window's expiry on the first use; returns the count and the ms left.
_HIT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {count, ttl}
"""


class RedisCacheStore:
    """The Redis store; Redis errors become :class:`BackendUnavailableError`."""

    def __init__(self, client: Redis) -> None:
        self._client = client
        self._hit = client.register_script(_HIT)

    @classmethod
    def from_url(cls, url: str) -> RedisCacheStore:
        return cls(Redis.from_url(url))

    async def get(self, key: str) -> bytes | None:
        try:
            value: bytes | None = await self._client.get(key)
        except (RedisError, OSError) as error:
            raise BackendUnavailableError("redis", str(error)) from error
        return value

    async def set(self, key: str, value: bytes, *, ttl_s: float) -> None:
        try:
            await self._client.set(key, value, px=max(1, round(ttl_s * 1000)))
        except (RedisError, OSError) as error:
            raise BackendUnavailableError("redis", str(error)) from error

    async def delete(self, key: str) -> None:
        try:
            await self._client.delete(key)
        except (RedisError, OSError) as error:
            raise BackendUnavailableError("redis", str(error)) from error

    async def hit(self, key: str, *, window_ms: int) -> WindowCount:
        try:
            count, ttl = await self._hit(keys=[key], args=[window_ms])
        except (RedisError, OSError) as error:
            raise BackendUnavailableError("redis", str(error)) from error
        return WindowCount(int(count), int(ttl))

    async def claim(self, key: str, *, ttl_s: float) -> float:
        ms = max(1, round(ttl_s * 1000))
        try:
            if await self._client.set(key, b"1", nx=True, px=ms):
                return 0.0
            left = int(await self._client.pttl(key))
        except (RedisError, OSError) as error:
            raise BackendUnavailableError("redis", str(error)) from error
        return max(left, 1) / 1000  # -2 (expired meanwhile) or -1: try again at once

    async def close(self) -> None:
        await self._client.aclose()
