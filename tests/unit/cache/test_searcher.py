"""The search path's edges with an in-process loader: failures are not cached and reach
every waiter, empty answers are not cached, suggest swallows refusals, close cancels."""

from __future__ import annotations

import asyncio

import pytest

from backbeat.cache.search import Loaded, MemorySearchCache
from backbeat.cache.searcher import Searcher
from backbeat.domain.queue import QueueTrack
from backbeat.domain.search_query import UnknownProviderError
from backbeat.errors import BackbeatError
from backbeat.net import UrlGuard, UrlPolicy

TRACK = QueueTrack(encoded="QAAA", identifier="x", title="X")


class NodeDown(BackbeatError):
    pass


class Loader:
    def __init__(self) -> None:
        self.calls: list[str] = []
        self.answer: tuple[QueueTrack, ...] = (TRACK,)
        self.fail = False
        self.gate: asyncio.Event | None = None

    async def __call__(self, identifier: str) -> Loaded:
        self.calls.append(identifier)
        if self.gate is not None:
            await self.gate.wait()
        if self.fail:
            raise NodeDown("node down")
        return Loaded(self.answer)


async def no_dns(host: str, port: int) -> list[str]:
    raise OSError("no DNS in tests")


def searcher(loader: Loader) -> Searcher:
    return Searcher(
        cache=MemorySearchCache(),
        throttle=None,
        guard=UrlGuard(UrlPolicy(), no_dns),
        load=loader,
        provider="ytmsearch",
    )


async def test_failures_reach_every_waiter_and_are_not_cached() -> None:
    loader = Loader()
    loader.fail = True
    loader.gate = asyncio.Event()
    search = searcher(loader)
    waiting = [asyncio.create_task(search.search("q", guild_id=1, user_id=u)) for u in (1, 2)]
    await asyncio.sleep(0.01)
    loader.gate.set()
    results = await asyncio.gather(*waiting, return_exceptions=True)
    assert all(isinstance(result, NodeDown) for result in results)
    assert loader.calls == ["ytmsearch:q"]
    loader.fail = False
    assert not (await search.search("q", guild_id=1, user_id=1)).cached
    assert (await search.search("q", guild_id=1, user_id=1)).cached


async def test_empty_answers_are_not_cached() -> None:
    loader = Loader()
    loader.answer = ()
    search = searcher(loader)
    assert (await search.search("nothing", guild_id=1, user_id=1)).tracks == ()
    await search.search("nothing", guild_id=1, user_id=1)
    assert loader.calls == ["ytmsearch:nothing", "ytmsearch:nothing"]


async def test_suggest_answers_nothing_when_the_search_fails() -> None:
    loader = Loader()
    loader.fail = True
    search = searcher(loader)
    assert await search.suggest("q", guild_id=1, user_id=1, budget_s=1) is None
    assert await search.suggest("q", guild_id=1, user_id=1, budget_s=1, source="local") is None
    with pytest.raises(UnknownProviderError):
        await search.search("q", guild_id=1, user_id=1, source="local")
    with pytest.raises(UnknownProviderError):
        Searcher(
            cache=MemorySearchCache(),
            throttle=None,
            guard=UrlGuard(),
            load=loader,
            provider="http",
        )


async def test_close_cancels_requests_under_way() -> None:
    loader = Loader()
    loader.gate = asyncio.Event()
    search = searcher(loader)
    assert await search.suggest("slow", guild_id=1, user_id=1, budget_s=0.01) is None
    assert loader.calls == ["ytmsearch:slow"]
    await search.close()
    loader.gate.set()
    # The cancelled request cached nothing: the next one asks the node again.
    assert await search.suggest("slow", guild_id=1, user_id=1, budget_s=5) == (TRACK,)
    assert loader.calls == ["ytmsearch:slow", "ytmsearch:slow"]
