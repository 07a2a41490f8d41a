"""The search results cache: 5 minutes, keyed by provider and normalised query.

With Redis (``BACKBEAT_REDIS_URL``) every audio worker shares one cache
(:class:`StoreSearchCache`, JSON of the answer under ``CacheKeys.search``); without it each
process keeps a bounded LRU with a TTL (:class:`MemorySearchCache`). Both take the query as
the user typed it and spell the key with :func:`~backbeat.domain.search_query.normalise_query`.
A cache that cannot be reached is a miss, never a failed search.

What is cached is a :class:`Loaded`: a node's answer that found something (search results,
one track, or a playlist with its name), never an error or an empty answer.
"""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Final, Protocol

from backbeat.cache.keys import SEARCH_TTL_S, CacheKeys
from backbeat.cache.store import CacheStore, RedisCacheStore
from backbeat.config import Settings
from backbeat.domain.queue import QueueTrack
from backbeat.domain.search_query import normalise_query
from backbeat.errors import BackendUnavailableError
from backbeat.observability.logging import get_logger
from backbeat.observability.metrics import search_cache_lookups_total

Clock = Callable[[], float]
Tracks = tuple[QueueTrack, ...]

DEFAULT_MAX_ENTRIES: Final = 10_000


@dataclass(frozen=True, slots=True)
class Loaded:
    """A node's answer worth caching: its tracks (best match first) and, for a playlist,
    its name and the track the link selected."""

    tracks: Tracks
    kind: str = "search"
    """Lavalink's ``loadType``: ``search``, ``track`` or ``playlist``."""
    playlist_name: str | None = None
    selected_index: int | None = None


_log = get_logger(__name__)


class SearchCache(Protocol):
    """Search results by provider (``ytsearch``…) and query."""

    async def get(self, source: str, query: str) -> Loaded | None:
        """The cached answer, or None (never cached, expired, or the cache is down)."""
        ...

    async def put(self, source: str, query: str, loaded: Loaded) -> None:
        """Cache ``loaded`` for the TTL (a failure to store is logged, not raised)."""
        ...


def dump_loaded(loaded: Loaded) -> bytes:
    """JSON of an answer: ``{"kind", "playlist", "selected", "tracks": [...]}`` (a track's
    ``extra`` must be JSON, as Lavalink's ``pluginInfo`` is)."""
    rows = [asdict(track) | {"extra": dict(track.extra)} for track in loaded.tracks]
    body = {
        "kind": loaded.kind,
        "playlist": loaded.playlist_name,
        "selected": loaded.selected_index,
        "tracks": rows,
    }
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def load_loaded(raw: bytes) -> Loaded:
    """The inverse of :func:`dump_loaded`."""
    body: dict[str, Any] = json.loads(raw)
    tracks = tuple(QueueTrack(**row) for row in body["tracks"])
    return Loaded(tracks, str(body["kind"]), body["playlist"], body["selected"])


class MemorySearchCache:
    """In process: at most ``max_entries`` queries, least recently used evicted first."""

    def __init__(
        self,
        *,
        ttl_s: float = SEARCH_TTL_S,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        clock: Clock = time.monotonic,
    ) -> None:
        if ttl_s <= 0 or max_entries < 1:
            raise ValueError("ttl_s must be > 0 and max_entries >= 1")
        self._ttl_s = ttl_s
        self._max = max_entries
        self._clock = clock
        self._entries: OrderedDict[tuple[str, str], tuple[Loaded, float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    async def get(self, source: str, query: str) -> Loaded | None:
        key = (source, normalise_query(query))
        found = self._entries.get(key)
        if found is None:
            search_cache_lookups_total.labels(outcome="miss").inc()
            return None
        loaded, expires = found
        if self._clock() >= expires:
            del self._entries[key]
            search_cache_lookups_total.labels(outcome="miss").inc()
            return None
        self._entries.move_to_end(key)
        search_cache_lookups_total.labels(outcome="hit").inc()
        return loaded

    async def put(self, source: str, query: str, loaded: Loaded) -> None:
        key = (source, normalise_query(query))
        self._entries[key] = (loaded, self._clock() + self._ttl_s)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)


class StoreSearchCache:
    """In a :class:`CacheStore` (Redis, shared by every worker): JSON with Redis's TTL."""

    def __init__(
        self,
        store: CacheStore,
        *,
        keys: CacheKeys | None = None,
        ttl_s: float = SEARCH_TTL_S,
    ) -> None:
        self._store = store
        self._keys = keys or CacheKeys()
        self._ttl_s = ttl_s

    def key(self, source: str, query: str) -> str:
        """The cache key of a query."""
        return self._keys.search(source, normalise_query(query))

    async def get(self, source: str, query: str) -> Loaded | None:
        try:
            raw = await self._store.get(self.key(source, query))
        except BackendUnavailableError as error:
            search_cache_lookups_total.labels(outcome="error").inc()
            _log.warning("search_cache_unavailable", operation="get", error=str(error))
            return None
        if raw is None:
            search_cache_lookups_total.labels(outcome="miss").inc()
            return None
        try:
            loaded = load_loaded(raw)
        except (ValueError, TypeError, KeyError) as error:
            search_cache_lookups_total.labels(outcome="error").inc()
            _log.warning("search_cache_unreadable", error=str(error))
            return None
        search_cache_lookups_total.labels(outcome="hit").inc()
        return loaded

    async def put(self, source: str, query: str, loaded: Loaded) -> None:
        try:
            await self._store.set(self.key(source, query), dump_loaded(loaded), ttl_s=self._ttl_s)
        except BackendUnavailableError as error:
            _log.warning("search_cache_unavailable", operation="put", error=str(error))


def create_search_cache(settings: Settings, store: CacheStore) -> SearchCache:
    """Redis when the deployment has one (``store`` is then the Redis store), else a bounded
    in-process LRU sized by ``BACKBEAT_SEARCH_CACHE_MAX_ENTRIES``."""
    ttl_s = settings.audio.search_cache_ttl_s
    if settings.bus.redis_url is not None and isinstance(store, RedisCacheStore):
        keys = CacheKeys(settings.bus.redis_key_prefix)
        return StoreSearchCache(store, keys=keys, ttl_s=ttl_s)
    return MemorySearchCache(ttl_s=ttl_s, max_entries=settings.audio.search_cache_max_entries)
