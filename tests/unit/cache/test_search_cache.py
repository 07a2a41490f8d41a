"""The in-process search cache (bounded LRU with a TTL on an injected clock), the JSON of
cached tracks, and the store-backed cache over the in-process store and a failing one."""

from __future__ import annotations

import pytest

from backbeat.cache import CacheKeys, MemoryCacheStore
from backbeat.cache.search import (
    Loaded,
    MemorySearchCache,
    StoreSearchCache,
    create_search_cache,
    dump_loaded,
    load_loaded,
)
from backbeat.cache.store import WindowCount
from backbeat.config import Settings, load_settings
from backbeat.domain.queue import QueueTrack
from backbeat.errors import BackendUnavailableError


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def track(n: int, **extra: object) -> QueueTrack:
    return QueueTrack(
        encoded=f"QAAA{n}",
        identifier=f"id{n}",
        title=f"Song {n} — ünïcode 🎵",
        author="Artist",
        length_ms=180_000 + n,
        uri=f"https://www.youtube.com/watch?v=id{n}",
        source_name="youtube",
        artwork_url=None,
        extra=dict(extra),
    )


TRACKS = Loaded(
    (track(1, isrc="USRC17607839"), track(2, pluginInfo={"albumName": "A", "n": [1, 2]}))
)
ONE = Loaded((track(3),), kind="track")


def test_answers_round_trip_through_json() -> None:
    raw = dump_loaded(TRACKS)
    assert load_loaded(raw) == TRACKS
    assert "🎵".encode() in raw
    playlist = Loaded(TRACKS.tracks, kind="playlist", playlist_name="Mix ✨", selected_index=1)
    assert load_loaded(dump_loaded(playlist)) == playlist
    assert load_loaded(dump_loaded(ONE)) == ONE


async def test_a_hit_comes_back_under_any_spelling_of_the_query() -> None:
    cache = MemorySearchCache(clock=FakeClock())
    await cache.put("ytsearch", "Lofi  Hip Hop", TRACKS)
    assert await cache.get("ytsearch", "lofi hip hop") == TRACKS
    assert await cache.get("ytsearch", " ＬＯＦＩ\thip HOP ") == TRACKS
    assert await cache.get("scsearch", "lofi hip hop") is None
    assert await cache.get("ytsearch", "lofi hip") is None


async def test_urls_keep_their_case() -> None:
    cache = MemorySearchCache(clock=FakeClock())
    await cache.put("url", "https://youtu.be/AbC", TRACKS)
    assert await cache.get("url", "https://youtu.be/abc") is None
    assert await cache.get("url", " https://youtu.be/AbC") == TRACKS


async def test_entries_expire_after_the_ttl_on_the_injected_clock() -> None:
    clock = FakeClock()
    cache = MemorySearchCache(clock=clock)
    await cache.put("ytsearch", "q", TRACKS)
    clock.now += 299.9
    assert await cache.get("ytsearch", "q") == TRACKS
    clock.now += 0.1
    assert await cache.get("ytsearch", "q") is None
    assert len(cache) == 0


async def test_the_least_recently_used_entry_goes_first() -> None:
    cache = MemorySearchCache(max_entries=3, clock=FakeClock())
    for name in ("a", "b", "c"):
        await cache.put("ytsearch", name, ONE)
    assert await cache.get("ytsearch", "a") is not None  # a is now the most recent
    await cache.put("ytsearch", "d", ONE)
    assert len(cache) == 3
    assert await cache.get("ytsearch", "b") is None
    for name in ("a", "c", "d"):
        assert await cache.get("ytsearch", name) is not None
    await cache.put("ytsearch", "c", TRACKS)  # replacing refreshes, never grows
    assert len(cache) == 3


def test_bounds_are_checked() -> None:
    with pytest.raises(ValueError, match="max_entries"):
        MemorySearchCache(max_entries=0)
    with pytest.raises(ValueError, match="ttl_s"):
        MemorySearchCache(ttl_s=0)


async def test_the_store_cache_keeps_json_under_the_search_key() -> None:
    clock = FakeClock()
    store = MemoryCacheStore(clock)
    cache = StoreSearchCache(store, keys=CacheKeys("p:"), ttl_s=300)
    await cache.put("ytsearch", "Lofi Hip Hop", TRACKS)
    assert cache.key("ytsearch", " LOFI hip hop") == "p:cache:search:ytsearch:lofi hip hop"
    assert await store.get("p:cache:search:ytsearch:lofi hip hop") == dump_loaded(TRACKS)
    assert await cache.get("ytsearch", "lofi hip hop") == TRACKS
    clock.now += 300
    assert await cache.get("ytsearch", "lofi hip hop") is None


async def test_unreadable_entries_are_misses() -> None:
    store = MemoryCacheStore()
    cache = StoreSearchCache(store)
    await store.set(cache.key("ytsearch", "q"), b"not json", ttl_s=60)
    assert await cache.get("ytsearch", "q") is None
    await store.set(cache.key("ytsearch", "q"), b'[{"nope": 1}]', ttl_s=60)
    assert await cache.get("ytsearch", "q") is None


class DownStore:
    """A cache store whose server is gone."""

    async def get(self, key: str) -> bytes | None:
        raise BackendUnavailableError("redis", "connection refused")

    async def set(self, key: str, value: bytes, *, ttl_s: float) -> None:
        raise BackendUnavailableError("redis", "connection refused")

    async def delete(self, key: str) -> None:
        raise BackendUnavailableError("redis", "connection refused")

    async def hit(self, key: str, *, window_ms: int) -> WindowCount:
        raise BackendUnavailableError("redis", "connection refused")

    async def close(self) -> None:
        return None


async def test_a_cache_that_is_down_is_a_miss_not_a_failure() -> None:
    cache = StoreSearchCache(DownStore())
    await cache.put("ytsearch", "q", TRACKS)
    assert await cache.get("ytsearch", "q") is None


def test_the_factory_picks_memory_without_redis(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BACKBEAT_REDIS_URL", raising=False)
    monkeypatch.setenv("BACKBEAT_SEARCH_CACHE_MAX_ENTRIES", "7")
    settings: Settings = load_settings(env_file=None)
    cache = create_search_cache(settings, MemoryCacheStore())
    assert isinstance(cache, MemorySearchCache)
