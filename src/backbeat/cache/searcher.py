"""Search with cache, throttling and safe URLs: the one path every search takes.

:meth:`Searcher.search` (play, playnext, playnow, ``search``) and :meth:`Searcher.suggest`
(autocomplete) follow the seed's "Search and Cache Flow":

1. a URL must pass the URL-safety guard, a plain query becomes ``<provider>:<query>``;
2. the cache answers when it can (a hit never reaches the node);
3. on a miss the search is throttled per user and per guild, then loaded through
   ``load`` (the audio service's node call), and a non-empty answer is cached.

``suggest`` answers from the cache, else from a live search within its budget, else with
nothing: Discord gives autocomplete 3 s and a late answer is useless. Concurrent misses of
one key in this process share one node request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Final

from backbeat.cache.search import Loaded, SearchCache, Tracks
from backbeat.cache.search_throttle import SearchThrottle
from backbeat.domain.search_query import check_provider, normalise_query
from backbeat.errors import BackbeatError, RateLimitedError, UnsafeUrlError
from backbeat.net.url_guard import UrlGuard
from backbeat.observability.logging import get_logger

Loader = Callable[[str], Awaitable[Loaded]]
"""Loads an identifier on a node: what it found (no tracks: nothing; raise on an error)."""

URL_SPACE: Final = "url"
"""The cache's provider slot of a URL (whatever provider plain queries go to)."""

_log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Found:
    """A search's answer: what was found, the identifier sent (or that would have been), and
    whether the cache answered."""

    loaded: Loaded
    identifier: str
    cached: bool

    @property
    def tracks(self) -> Tracks:
        return self.loaded.tracks


class Searcher:
    """Guard, cache, throttle and node load, in the order of the seed's flow."""

    def __init__(
        self,
        *,
        cache: SearchCache,
        throttle: SearchThrottle | None,
        guard: UrlGuard,
        load: Loader,
        provider: str = "ytsearch",
    ) -> None:
        self._cache = cache
        self._throttle = throttle
        self._guard = guard
        self._load = load
        self._provider = check_provider(provider)
        self._inflight: dict[tuple[str, str], asyncio.Task[Loaded]] = {}

    async def search(
        self, query: str, *, guild_id: int, user_id: int, source: str | None = None
    ) -> Found:
        """The tracks for ``query``; raises :class:`UnsafeUrlError` (refused URL or query),
        :class:`RateLimitedError` (throttled), or what ``load`` raises."""
        provider = check_provider(source or self._provider)
        identifier = await self._guard.identifier_for(query, provider)
        # A search is cached under its provider and query, a URL under "url" and the URL.
        prefix = f"{provider}:"
        if identifier.startswith(prefix):
            space, cache_query = provider, identifier[len(prefix) :]
        else:
            space, cache_query = URL_SPACE, identifier
        cached = await self._cache.get(space, cache_query)
        if cached is not None:
            return Found(cached, identifier, cached=True)
        key = (space, normalise_query(cache_query))
        task = self._inflight.get(key)
        if task is None:  # joining a request under way is free, like a hit
            if self._throttle is not None:
                await self._throttle.check(guild_id=guild_id, user_id=user_id)
            task = self._inflight.get(key)
            if task is None:
                cached = await self._cache.get(space, cache_query)
                if cached is not None:  # a request finished while we were throttle-checked
                    return Found(cached, identifier, cached=True)
                task = self._start(key, space, cache_query, identifier)
        loaded = await asyncio.shield(task)
        return Found(loaded, identifier, cached=False)

    async def suggest(
        self,
        query: str,
        *,
        guild_id: int,
        user_id: int,
        budget_s: float,
        source: str | None = None,
    ) -> Tracks | None:
        """Suggestions for a partial query within ``budget_s``, or None (no answer: refused,
        throttled, failed or too slow)."""
        try:
            async with asyncio.timeout(budget_s):
                found = await self.search(query, guild_id=guild_id, user_id=user_id, source=source)
        except TimeoutError:
            _log.info("suggest_late", guild_id=guild_id, budget_s=budget_s)
            return None
        except (UnsafeUrlError, RateLimitedError, ValueError):
            return None
        except BackbeatError as error:
            _log.info("suggest_failed", guild_id=guild_id, error=str(error))
            return None
        return found.tracks

    def _start(
        self, key: tuple[str, str], space: str, cache_query: str, identifier: str
    ) -> asyncio.Task[Loaded]:
        """The node request of one key. It runs as its own task, so a caller that gives up
        (a ``suggest`` past its budget) does not cancel it for the others, and its answer
        still fills the cache for the next keystroke."""
        task = asyncio.create_task(self._load_and_cache(space, cache_query, identifier))
        self._inflight[key] = task
        task.add_done_callback(lambda done: self._forget(key, done))
        return task

    async def _load_and_cache(self, space: str, cache_query: str, identifier: str) -> Loaded:
        loaded = await self._load(identifier)
        if loaded.tracks:
            await self._cache.put(space, cache_query, loaded)
        return loaded

    def _forget(self, key: tuple[str, str], done: asyncio.Task[Loaded]) -> None:
        if self._inflight.get(key) is done:
            del self._inflight[key]
        if not done.cancelled():
            done.exception()  # retrieved here: a load nobody waits for any more logs nothing

    async def close(self) -> None:
        """Cancel the node requests still under way (at shutdown)."""
        tasks = list(self._inflight.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
