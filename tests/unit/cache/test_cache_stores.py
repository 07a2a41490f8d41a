"""Both cache stores: values with a TTL and fixed-window counters (Redis for real)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from backbeat.cache import CacheKeys, CacheStore, MemoryCacheStore, RedisCacheStore


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[tuple[CacheStore, str]]:
    if request.param == "memory":
        yield MemoryCacheStore(), ""
        return
    prefix = request.getfixturevalue("redis_key_prefix")
    redis = RedisCacheStore.from_url(request.getfixturevalue("redis_url"))
    yield redis, prefix
    await redis.close()


async def test_values_round_trip_expire_and_delete(store: tuple[CacheStore, str]) -> None:
    cache, prefix = store
    keys = CacheKeys(prefix)
    key = keys.guild_settings(1)
    assert await cache.get(key) is None
    await cache.set(key, b"v1", ttl_s=0.2)
    assert await cache.get(key) == b"v1"
    await cache.delete(key)
    assert await cache.get(key) is None
    await cache.set(key, b"v2", ttl_s=0.05)
    await asyncio.sleep(0.3)
    assert await cache.get(key) is None


async def test_window_counts_uses_and_resets(store: tuple[CacheStore, str]) -> None:
    cache, prefix = store
    key = CacheKeys(prefix).rate_limit("music.play", 1, 2)
    first = await cache.hit(key, window_ms=300)
    second = await cache.hit(key, window_ms=300)
    assert (first.count, second.count) == (1, 2)
    assert 0 < second.reset_ms <= 300
    await asyncio.sleep(0.5)
    assert (await cache.hit(key, window_ms=300)).count == 1


async def test_memory_store_follows_its_clock_and_stays_bounded() -> None:
    clock = FakeClock()
    cache = MemoryCacheStore(clock, max_entries=3)
    await cache.set("a", b"1", ttl_s=10)
    clock.now += 11
    assert await cache.get("a") is None
    for name in "bcde":
        await cache.set(name, b"x", ttl_s=10)
    assert await cache.get("b") is None  # the oldest made room
    assert await cache.get("e") == b"x"
    assert (await cache.hit("w", window_ms=1000)).reset_ms == 1000
    clock.now += 0.4
    assert (await cache.hit("w", window_ms=1000)).reset_ms == 600


def test_keys_are_prefixed_and_named_once() -> None:
    keys = CacheKeys("bb:")
    assert keys.guild_settings(5) == "bb:cache:guild-settings:5"
    assert keys.now_playing(5) == "bb:cache:np-message:5"
    assert keys.rate_limit("music.play", 5, 7) == "bb:ratelimit:music.play:5:7"
    assert keys.search("ytsearch", "lofi") == "bb:cache:search:ytsearch:lofi"
