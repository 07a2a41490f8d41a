"""The search cache in a real Redis: JSON under the prefixed key, Redis's TTL, shared by two
workers, and a Redis that goes away turning into misses."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from backbeat.cache import CacheKeys, RedisCacheStore
from backbeat.cache.search import Loaded, StoreSearchCache, create_search_cache, load_loaded
from backbeat.config import load_settings
from backbeat.domain.queue import QueueTrack

TRACKS = Loaded(
    (
        QueueTrack(
            encoded="QAAA1", identifier="a1", title="Lofi Song ☕", author="Lo", length_ms=1
        ),
        QueueTrack(encoded="QAAA2", identifier="a2", title="Two", extra={"isrc": "X"}),
    ),
    kind="playlist",
    playlist_name="Lofi",
    selected_index=0,
)


@pytest.fixture
async def redis_store(redis_url: str) -> AsyncIterator[RedisCacheStore]:
    store = RedisCacheStore.from_url(redis_url)
    yield store
    await store.close()


async def test_results_are_json_under_the_prefixed_key_with_a_five_minute_ttl(
    redis_store: RedisCacheStore, redis_url: str, redis_key_prefix: str
) -> None:
    cache = StoreSearchCache(redis_store, keys=CacheKeys(redis_key_prefix))
    await cache.put("ytsearch", "  Lofi   HIP hop", TRACKS)
    key = f"{redis_key_prefix}cache:search:ytsearch:lofi hip hop"
    client: Redis = Redis.from_url(redis_url)
    try:
        raw = await client.get(key)
        assert raw is not None
        assert load_loaded(raw) == TRACKS
        ttl_ms = await client.pttl(key)
        assert 295_000 < ttl_ms <= 300_000
    finally:
        await client.aclose()
    assert await cache.get("ytsearch", "lofi hip hop") == TRACKS


async def test_two_workers_share_one_cache(redis_url: str, redis_key_prefix: str) -> None:
    first = RedisCacheStore.from_url(redis_url)
    second = RedisCacheStore.from_url(redis_url)
    try:
        keys = CacheKeys(redis_key_prefix)
        await StoreSearchCache(first, keys=keys).put("scsearch", "Rain", TRACKS)
        assert await StoreSearchCache(second, keys=keys).get("scsearch", "rain") == TRACKS
        other_deployment = StoreSearchCache(second, keys=CacheKeys(redis_key_prefix + "x:"))
        assert await other_deployment.get("scsearch", "rain") is None
    finally:
        await first.close()
        await second.close()


async def test_entries_expire_with_redis_ttl(
    redis_store: RedisCacheStore, redis_key_prefix: str
) -> None:
    cache = StoreSearchCache(redis_store, keys=CacheKeys(redis_key_prefix), ttl_s=0.2)
    await cache.put("ytsearch", "short", TRACKS)
    assert await cache.get("ytsearch", "short") == TRACKS
    for _ in range(100):  # generous: up to 10 s on a loaded machine
        if await cache.get("ytsearch", "short") is None:
            break
        await asyncio.sleep(0.1)
    assert await cache.get("ytsearch", "short") is None


async def test_an_unreachable_redis_is_a_miss() -> None:
    store = RedisCacheStore.from_url("redis://127.0.0.1:1/0")
    try:
        cache = StoreSearchCache(store)
        await cache.put("ytsearch", "q", TRACKS)
        assert await cache.get("ytsearch", "q") is None
    finally:
        await store.close()


async def test_the_factory_picks_redis_when_configured(
    monkeypatch: pytest.MonkeyPatch, redis_url: str, redis_key_prefix: str
) -> None:
    monkeypatch.setenv("BACKBEAT_REDIS_URL", redis_url)
    monkeypatch.setenv("BACKBEAT_REDIS_KEY_PREFIX", redis_key_prefix)
    monkeypatch.setenv("BACKBEAT_SEARCH_CACHE_TTL_S", "120")
    store = RedisCacheStore.from_url(redis_url)
    try:
        cache = create_search_cache(load_settings(env_file=None), store)
        assert isinstance(cache, StoreSearchCache)
        assert cache.key("ytsearch", "Q") == f"{redis_key_prefix}cache:search:ytsearch:q"
    finally:
        await store.close()
