"""The audio service's search path: the shared :class:`~backbeat.cache.searcher.Searcher`
wired to this worker's players.

Every search (``play``, ``playnext``, ``playnow``, ``search``, ``suggest``) goes through one
:class:`Searcher`: the URL-safety guard, the provider prefix, the results cache, the per-user
and per-guild throttle, then a node's ``/v4/loadtracks``. The component builds it from the
process's cache store (Redis when configured, so every worker and the gateway share the
cache and the counters); without one (tests, the embedded stack) :func:`build_searcher`
keeps both in process.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from backbeat.audio.errors import CommandRefusedError
from backbeat.audio.ports import LoadKind, Players
from backbeat.cache.ratelimit import RateLimiter
from backbeat.cache.search import Loaded, MemorySearchCache, SearchCache
from backbeat.cache.search_throttle import SearchThrottle
from backbeat.cache.searcher import Loader, Searcher
from backbeat.cache.store import MemoryCacheStore
from backbeat.config import AudioSettings
from backbeat.db.repositories.rate_limits import RateLimitRepository
from backbeat.domain.playback_errors import Classification, classify
from backbeat.net.url_guard import Resolver, UrlGuard, policy_from_settings, system_resolver
from backbeat.observability.metrics import playback_failures_total


def plain_message(classification: Classification) -> str:
    """The classification's sentence without its promise to try again (for a refusal or a
    skipped track, where nothing is tried again)."""
    message = classification.user_message
    for retrying in ("; trying again shortly.", "; trying again."):
        if message.endswith(retrying):
            return message.removesuffix(retrying) + "."
    return message


def loader(players: Players) -> Loader:
    """The Searcher's node call: a load on the best node; an ``error`` answer is classified
    and refused (``load_failed`` with a sentence a user understands), never cached."""

    async def load(identifier: str) -> Loaded:
        result = await players.load(identifier)
        if result.kind is LoadKind.ERROR:
            found = classify(result.error, result.cause, result.severity)
            playback_failures_total.labels(reason=found.failure_class.value).inc()
            raise CommandRefusedError(
                "load_failed", plain_message(found), reason=found.failure_class.value
            )
        return Loaded(result.tracks, result.kind.value, result.playlist_name, result.selected_index)

    return load


def build_searcher(
    settings: AudioSettings,
    engine: AsyncEngine,
    players: Players,
    *,
    cache: SearchCache | None = None,
    throttle: SearchThrottle | None = None,
    resolver: Resolver | None = None,
) -> Searcher:
    """The searcher of one worker. ``cache`` and ``throttle`` default to in-process ones
    (an LRU of ``search_cache_max_entries``; counters in memory, policies from the
    ``rate_limits`` table); ``resolver`` defaults to the system's."""
    if cache is None:
        cache = MemorySearchCache(
            ttl_s=settings.search_cache_ttl_s, max_entries=settings.search_cache_max_entries
        )
    if throttle is None:
        throttle = SearchThrottle(RateLimiter(MemoryCacheStore(), RateLimitRepository(engine)))
    guard = UrlGuard(policy_from_settings(settings), resolver or system_resolver)
    return Searcher(
        cache=cache,
        throttle=throttle,
        guard=guard,
        load=loader(players),
        provider=settings.search_provider,
    )
