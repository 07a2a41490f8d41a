"""The search path against the Lavalink emulator over HTTP: cache hits never reach the node,
expiry on an injected clock, throttling per user and per guild from SQL policies, refused URLs
before any node request, provider prefixes, and suggest within its budget or not at all."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from backbeat.cache import MemoryCacheStore, RateLimiter
from backbeat.cache.ratelimit import SEARCH_BUCKET, SEARCH_GUILD_BUCKET
from backbeat.cache.search import Loaded, MemorySearchCache
from backbeat.cache.search_throttle import SearchThrottle
from backbeat.cache.searcher import Searcher
from backbeat.db.engine import create_engine
from backbeat.db.migrate import migrate_to
from backbeat.db.repositories import RateLimitRepository
from backbeat.domain.queue import QueueTrack
from backbeat.domain.records import RateLimitPolicy
from backbeat.errors import RateLimitedError, UnsafeUrlError
from backbeat.net import UrlGuard, UrlPolicy
from backbeat.testing.lavalink.control_client import LavalinkControlClient
from backbeat.testing.lavalink.server import LavalinkEmulator

GUILD = 4242


class Clock:
    def __init__(self) -> None:
        self.now = 5000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Node:
    """Loads identifiers from the emulator over HTTP and logs every request it made."""

    emulator: LavalinkEmulator
    http: aiohttp.ClientSession
    requests: list[str] = field(default_factory=list)

    async def load(self, identifier: str) -> Loaded:
        self.requests.append(identifier)
        async with self.http.get(
            f"{self.emulator.rest_url}/v4/loadtracks",
            params={"identifier": identifier},
            headers={"Authorization": self.emulator.password},
        ) as response:
            body: dict[str, Any] = await response.json()
        kind = body["loadType"]
        data = body["data"]
        rows = data if kind == "search" else [data] if kind == "track" else []
        if kind == "playlist":
            rows = data["tracks"]
        tracks = tuple(
            QueueTrack(
                encoded=row["encoded"],
                identifier=row["info"]["identifier"],
                title=row["info"]["title"],
                author=row["info"]["author"],
                length_ms=row["info"]["length"],
                uri=row["info"]["uri"],
                source_name=row["info"]["sourceName"],
            )
            for row in rows
        )
        if kind == "playlist":
            info = data["info"]
            return Loaded(tracks, kind, info["name"], info["selectedTrack"])
        return Loaded(tracks, kind)


class Resolver:
    def __init__(self, table: dict[str, Sequence[str]]) -> None:
        self.table = table

    async def __call__(self, host: str, port: int) -> Sequence[str]:
        if host not in self.table:
            raise OSError("not found")
        return self.table[host]


@pytest.fixture
async def sql(fresh_database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(fresh_database_url)
    await migrate_to(engine, "head")
    yield engine
    await engine.dispose()


@pytest.fixture
async def node(lavalink_emulator: LavalinkEmulator) -> AsyncIterator[Node]:
    async with aiohttp.ClientSession() as http:
        yield Node(lavalink_emulator, http)


@dataclass
class Rig:
    node: Node
    clock: Clock
    policies: RateLimitRepository
    searcher: Searcher


@pytest.fixture
async def rig(node: Node, sql: AsyncEngine) -> AsyncIterator[Rig]:
    clock = Clock()
    policies = RateLimitRepository(sql)
    limiter = RateLimiter(MemoryCacheStore(clock), policies, policy_ttl_s=0, clock=clock)
    resolver = Resolver({"www.youtube.com": ["142.250.185.78"], "10.0.0.1.nip.io": ["10.0.0.1"]})
    searcher = Searcher(
        cache=MemorySearchCache(clock=clock),
        throttle=SearchThrottle(limiter),
        guard=UrlGuard(UrlPolicy(), resolver),
        load=node.load,
    )
    yield Rig(node, clock, policies, searcher)
    await searcher.close()


async def test_a_plain_query_is_sent_with_the_provider_and_a_hit_skips_the_node(rig: Rig) -> None:
    first = await rig.searcher.search("Lofi Hip Hop", guild_id=GUILD, user_id=1)
    assert rig.node.requests == ["ytsearch:Lofi Hip Hop"]
    assert first.tracks
    assert all(track.source_name == "youtube" for track in first.tracks)
    assert not first.cached
    assert first.identifier == "ytsearch:Lofi Hip Hop"
    again = await rig.searcher.search("  lofi   hip HOP ", guild_id=GUILD, user_id=2)
    assert again.cached
    assert again.tracks == first.tracks
    assert rig.node.requests == ["ytsearch:Lofi Hip Hop"]
    other = await rig.searcher.search("lofi hip hop", guild_id=GUILD, user_id=1, source="scsearch")
    assert rig.node.requests[-1] == "scsearch:lofi hip hop"
    assert not other.cached


async def test_an_entry_expires_after_its_ttl_on_the_injected_clock(rig: Rig) -> None:
    await rig.searcher.search("ambient", guild_id=GUILD, user_id=1)
    rig.clock.now += 299
    assert (await rig.searcher.search("ambient", guild_id=GUILD, user_id=1)).cached
    rig.clock.now += 1
    assert not (await rig.searcher.search("ambient", guild_id=GUILD, user_id=1)).cached
    assert rig.node.requests == ["ytsearch:ambient", "ytsearch:ambient"]


async def test_throttling_answers_with_the_wait_and_cache_hits_stay_free(rig: Rig) -> None:
    await rig.policies.put(policy=RateLimitPolicy(bucket=SEARCH_BUCKET, limit=2, window_seconds=60))
    await rig.searcher.search("rock", guild_id=GUILD, user_id=7)
    rig.clock.now += 15
    await rig.searcher.search("pop", guild_id=GUILD, user_id=7)
    with pytest.raises(RateLimitedError) as refused:
        await rig.searcher.search("jazz", guild_id=GUILD, user_id=7)
    assert refused.value.bucket == SEARCH_BUCKET
    assert refused.value.message == "Too many searches, try again in 45 s."
    assert len(rig.node.requests) == 2
    assert (await rig.searcher.search("rock", guild_id=GUILD, user_id=7)).cached
    await rig.searcher.search("jazz", guild_id=GUILD, user_id=8)  # another user
    rig.clock.now += 45
    await rig.searcher.search("house", guild_id=GUILD, user_id=7)  # the window is over
    assert len(rig.node.requests) == 4


async def test_the_guild_bucket_holds_everyone_in_the_guild(rig: Rig) -> None:
    await rig.policies.put(
        policy=RateLimitPolicy(bucket=SEARCH_GUILD_BUCKET, limit=3, window_seconds=10)
    )
    for user in (1, 2, 3):
        await rig.searcher.search(("rock", "pop", "jazz")[user - 1], guild_id=GUILD, user_id=user)
    with pytest.raises(RateLimitedError) as refused:
        await rig.searcher.search("metal", guild_id=GUILD, user_id=4)
    assert refused.value.bucket == SEARCH_GUILD_BUCKET
    assert "try again in 10 s" in refused.value.message
    await rig.searcher.search("metal", guild_id=GUILD + 1, user_id=4)


@pytest.mark.parametrize(
    "url",
    [
        "http://[::1]/",
        "http://169.254.169.254/latest/meta-data",
        "http://0x7f000001/",
        "http://2130706433/",
        "http://017700000001/",
        "http://[::ffff:127.0.0.1]/",
        "http://a@10.0.0.1/",
        "http://10.0.0.1.nip.io/",
        "file:///etc/passwd",
        "gopher://x/",
        "https://www.youtube.com/watch?v=" + "x" * 10_000,
        "x" * 10_000,
    ],
)
async def test_each_refused_url_never_reaches_the_node(rig: Rig, url: str) -> None:
    with pytest.raises(UnsafeUrlError) as refused:
        await rig.searcher.search(url, guild_id=GUILD, user_id=1)
    assert refused.value.message
    assert rig.node.requests == []
    assert await rig.searcher.suggest(url, guild_id=GUILD, user_id=1, budget_s=1.5) is None
    assert rig.node.requests == []


async def test_an_admitted_url_is_loaded_as_the_url(rig: Rig) -> None:
    found = await rig.searcher.search(
        "https://WWW.YOUTUBE.COM/watch?v=mdeVVaZgQof", guild_id=GUILD, user_id=1
    )
    assert rig.node.requests == ["https://www.youtube.com/watch?v=mdeVVaZgQof"]
    assert [track.identifier for track in found.tracks] == ["mdeVVaZgQof"]
    again = await rig.searcher.search(
        "https://www.youtube.com/watch?v=mdeVVaZgQof", guild_id=GUILD, user_id=1
    )
    assert again.cached


async def test_suggest_answers_within_its_budget_or_not_at_all(rig: Rig) -> None:
    quick = await rig.searcher.suggest("lofi", guild_id=GUILD, user_id=1, budget_s=5.0)
    assert quick
    async with LavalinkControlClient(rig.node.emulator.control_url) as control:
        await control.delay(1500, path_prefix="/v4/loadtracks", times=1)
    late = await rig.searcher.suggest("techno", guild_id=GUILD, user_id=1, budget_s=0.2)
    assert late is None
    # The node's answer still arrives and fills the cache for the next keystroke.
    for _ in range(100):
        hit = await rig.searcher.suggest("techno", guild_id=GUILD, user_id=1, budget_s=0.2)
        if hit is not None:
            break
        await asyncio.sleep(0.1)
    assert hit
    assert rig.node.requests.count("ytsearch:techno") == 1


async def test_concurrent_misses_share_one_node_request(rig: Rig) -> None:
    results = await asyncio.gather(
        *(rig.searcher.search("Synthwave", guild_id=GUILD, user_id=u) for u in range(5))
    )
    assert rig.node.requests == ["ytsearch:Synthwave"]
    assert results[0].tracks
    assert all(result.tracks == results[0].tracks for result in results)


async def test_a_playlist_link_is_cached_with_its_name(rig: Rig) -> None:
    url = "https://www.youtube.com/playlist?list=PLnn7yqVLUpPRSs8iaVIm329xoPVDhm__S"
    first = await rig.searcher.search(url, guild_id=GUILD, user_id=1)
    assert first.loaded.kind == "playlist"
    assert first.loaded.playlist_name == "Best of Lofi 2025"
    assert len(first.tracks) >= 3
    again = await rig.searcher.search(url, guild_id=GUILD, user_id=2)
    assert again.cached
    assert again.loaded == first.loaded
    assert rig.node.requests == [url]
