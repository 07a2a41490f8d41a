"""The search path over the bus with the Lavalink emulator: cache hits never reach the node,
entries expire after their TTL, throttling answers with the wait, unsafe URLs are refused
before any node request, plain queries carry a provider prefix, ``search`` answers
``search-results`` and ``suggest`` answers within its budget or not at all.

The node's request log (``control.requests``) is the witness of what reached the node. On
the Redis stack the cache and the counters are in Redis (as a deployment with Redis has
them); on the embedded stack in process.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import pytest_asyncio
from audio_rig import USER, AudioRig, RigFactory, fast_settings, urls
from pydantic import ValidationError

from backbeat.audio.search import plain_message
from backbeat.cache import CacheKeys, RateLimiter, RedisCacheStore
from backbeat.cache.ratelimit import SEARCH_BUCKET, SEARCH_GUILD_BUCKET
from backbeat.cache.search import MemorySearchCache, SearchCache, StoreSearchCache
from backbeat.cache.search_throttle import SearchThrottle
from backbeat.config import AudioSettings
from backbeat.db.repositories.rate_limits import RateLimitRepository
from backbeat.domain.messages import Envelope
from backbeat.domain.messages.commands import (
    CommandEnvelope,
    Play,
    QueryPayload,
    QueueView,
    Search,
    SearchPayload,
    Suggest,
    SuggestPayload,
)
from backbeat.domain.messages.to_discord import (
    ErrorReply,
    Notice,
    QueuePage,
    SearchResults,
    Suggestions,
)
from backbeat.domain.playback_errors import classify
from backbeat.domain.records import RateLimitPolicy
from backbeat.errors import UnsafeUrlError
from backbeat.testing.lavalink.failures import FAILURES

GUILD = 1_000_000_031
OTHER_USER = 4_200_002

SearchRig = Callable[..., Awaitable[AudioRig]]


@pytest_asyncio.fixture
async def search_rig(
    make_rig: RigFactory, audio_stack: str, request: pytest.FixtureRequest
) -> AsyncIterator[SearchRig]:
    """``await search_rig(settings=None, cache=None)``: a rig whose searcher keeps its
    cache and counters in Redis on the Redis stack (in process on the embedded one), or in
    the ``cache`` given."""
    stores: list[RedisCacheStore] = []

    async def make(
        settings: AudioSettings | None = None, cache: SearchCache | None = None
    ) -> AudioRig:
        rig = await make_rig(settings, start_worker=False)
        if audio_stack != "embedded":
            store = RedisCacheStore.from_url(request.getfixturevalue("redis_url"))
            stores.append(store)
            keys = CacheKeys(request.getfixturevalue("redis_key_prefix"))
            limiter = RateLimiter(store, RateLimitRepository(rig.engine), keys=keys)
            rig.search_throttle = SearchThrottle(limiter)
            rig.search_cache = StoreSearchCache(store, keys=keys)
        if cache is not None:
            rig.search_cache = cache
        await rig.start_worker()
        return rig

    try:
        yield make
    finally:
        for store in stores:
            await store.close()


def _play(rig: AudioRig, query: str, *, user_id: int = USER, source: str | None = None) -> Play:
    return Play(
        guild_id=GUILD,
        context=rig.context(user_id=user_id),
        payload=QueryPayload(query=query, source=source),
    )


async def _answer(rig: AudioRig, command: CommandEnvelope) -> Envelope:
    return await rig.reply(await rig.send(command))


async def _refused(rig: AudioRig, command: CommandEnvelope) -> ErrorReply:
    reply = await _answer(rig, command)
    assert isinstance(reply, ErrorReply), reply
    return reply


async def _loads(rig: AudioRig) -> list[str]:
    """Every identifier the node was asked to load, in order."""
    return [
        str(r["query"].get("identifier"))
        for r in await rig.emulator.control.requests("/v4/loadtracks")
    ]


async def _settled(rig: AudioRig) -> None:
    """Wait until every earlier command of the guild was handled (one lane per guild)."""
    page = await _answer(rig, QueueView(guild_id=GUILD, context=rig.context()))
    assert isinstance(page, QueuePage)


async def test_a_plain_query_has_a_provider_prefix_and_a_cache_hit_never_reaches_the_node(
    search_rig: SearchRig,
) -> None:
    rig = await search_rig()
    title = urls()["title"]
    first = await _answer(rig, _play(rig, title))
    assert isinstance(first, Notice), first
    assert first.payload.key == "play.started"
    assert await _loads(rig) == [f"ytsearch:{title}"]

    # the same query spelt otherwise, and the same link twice: the cache answers
    again = await _answer(rig, _play(rig, f"  {title.upper()}  "))
    assert isinstance(again, Notice)
    assert again.payload.key == "play.queued"
    link = urls()["two"]
    await _answer(rig, _play(rig, link))
    await _answer(rig, _play(rig, link))
    assert await _loads(rig) == [f"ytsearch:{title}", link]

    # another provider is another search, prefixed with it
    await _answer(rig, _play(rig, title, source="scsearch"))
    assert (await _loads(rig))[-1] == f"scsearch:{title}"
    # a path is only ever searched for, never loaded as an identifier
    await _answer(rig, _play(rig, "/etc/passwd"))
    assert (await _loads(rig))[-1] == "ytsearch:/etc/passwd"
    assert all(":" in identifier for identifier in await _loads(rig))
    # a provider outside the allowlist is refused
    unknown = await _refused(rig, _play(rig, title, source="local"))
    assert unknown.payload.code == "unknown_provider"


async def test_a_cache_entry_expires_after_its_ttl_on_an_injected_clock(
    search_rig: SearchRig,
) -> None:
    now = [1_000.0]
    cache = MemorySearchCache(ttl_s=300.0, clock=lambda: now[0])
    rig = await search_rig(cache=cache)
    title = urls()["title"]
    await _answer(rig, _play(rig, title))
    now[0] += 299.0
    await _answer(rig, _play(rig, title))
    assert len(await _loads(rig)) == 1, "within the TTL: a hit"
    now[0] += 1.0
    await _answer(rig, _play(rig, title))
    assert len(await _loads(rig)) == 2, "past the TTL: the node again"
    await _answer(rig, _play(rig, title))
    assert len(await _loads(rig)) == 2, "cached again"


async def test_throttling_per_user_and_per_guild_answers_with_the_wait(
    search_rig: SearchRig,
) -> None:
    rig = await search_rig()
    policies = RateLimitRepository(rig.engine)
    await policies.put(policy=RateLimitPolicy(SEARCH_BUCKET, 2, 60, guild_id=GUILD))
    await policies.put(policy=RateLimitPolicy(SEARCH_GUILD_BUCKET, 3, 60, guild_id=GUILD))

    for query in ("harbor pilots", "gentle pulse"):
        assert isinstance(await _answer(rig, _play(rig, query)), Notice)
    throttled = await _refused(rig, _play(rig, "silent horizon"))
    assert throttled.payload.code == "rate_limited"
    wait = throttled.payload.params["retry_after_s"]
    assert isinstance(wait, int)
    assert 1 <= wait <= 60
    assert throttled.payload.message == f"Too many searches, try again in {wait} s."
    assert await _loads(rig) == ["ytsearch:harbor pilots", "ytsearch:gentle pulse"]

    # a cache hit is free, even while throttled
    assert isinstance(await _answer(rig, _play(rig, "Gentle  Pulse")), Notice)

    # another user has their own bucket, but the guild's is shared: 3 live searches in all
    assert isinstance(await _answer(rig, _play(rig, "lofi", user_id=OTHER_USER)), Notice)
    guild_wide = await _refused(rig, _play(rig, "chill", user_id=OTHER_USER))
    assert guild_wide.payload.code == "rate_limited"
    assert len(await _loads(rig)) == 3

    # search is throttled the same way
    search = Search(guild_id=GUILD, context=rig.context(), payload=SearchPayload(query="jazz"))
    assert (await _refused(rig, search)).payload.code == "rate_limited"
    assert len(await _loads(rig)) == 3


UNSAFE = [
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
]


async def test_every_unsafe_url_is_refused_before_any_node_request(
    search_rig: SearchRig,
) -> None:
    rig = await search_rig(fast_settings(url_max_length=200))
    rig.resolver.answers["10.0.0.1.nip.io"] = ("10.0.0.1",)
    for url in UNSAFE:
        refused = await _refused(rig, _play(rig, url))
        assert refused.payload.code == "unsafe_url", url
        assert refused.payload.message, url
        search = Search(guild_id=GUILD, context=rig.context(), payload=SearchPayload(query=url))
        assert (await _refused(rig, search)).payload.code == "unsafe_url", url
    nip = await _refused(rig, _play(rig, "http://10.0.0.1.nip.io/"))
    assert "10.0.0.1" in nip.payload.message
    assert "private" in nip.payload.message
    assert "10.0.0.1.nip.io" in rig.resolver.asked

    # too long: the command schema stops 10 kB at the gateway, the guard anything over its
    # limit (here 200 characters) that reaches audio
    with pytest.raises(ValidationError):
        QueryPayload(query="a" * 10_240)
    long_query = await _refused(rig, _play(rig, "lofi " * 80))
    assert long_query.payload.code == "unsafe_url"
    assert long_query.payload.params == {"reason": "too_long"}
    assert rig.worker is not None
    for text in ("a" * 10_240, "https://www.youtube.com/watch?v=" + "a" * 10_240):
        with pytest.raises(UnsafeUrlError):
            await rig.worker.audio.searcher.search(text, guild_id=GUILD, user_id=USER)

    assert await rig.emulator.control.requests("/v4/loadtracks") == []
    assert [p for p in await rig.emulator.control.players() if p["guildId"] == str(GUILD)] == []


async def test_a_failed_load_is_refused_in_words_a_user_understands_and_not_cached(
    search_rig: SearchRig,
) -> None:
    rig = await search_rig()
    await rig.emulator.control.fail_load("ytsearch:lost tune", kind="bot_check")
    for _ in range(2):
        refused = await _refused(rig, _play(rig, "lost tune"))
        assert refused.payload.code == "load_failed"
        assert refused.payload.params == {"reason": "sign_in"}
        failure = FAILURES["bot_check"].to_json()
        expected = plain_message(classify(str(failure["message"]), str(failure["cause"])))
        assert refused.payload.message == expected
        assert "not a bot" not in refused.payload.message
    assert await _loads(rig) == ["ytsearch:lost tune", "ytsearch:lost tune"]


async def test_search_answers_search_results_from_the_node_then_the_cache(
    search_rig: SearchRig,
) -> None:
    rig = await search_rig()
    search = Search(
        guild_id=GUILD, context=rig.context(), payload=SearchPayload(query="lofi", limit=3)
    )
    results = await _answer(rig, search)
    assert isinstance(results, SearchResults), results
    assert results.payload.query == "lofi"
    assert 1 <= len(results.payload.tracks) <= 3
    assert results.payload.target.context.user_id == USER
    again = Search(
        guild_id=GUILD, context=rig.context(), payload=SearchPayload(query="LOFI", limit=5)
    )
    cached = await _answer(rig, again)
    assert isinstance(cached, SearchResults)
    assert cached.payload.tracks[:1] == results.payload.tracks[:1]
    assert await _loads(rig) == ["ytsearch:lofi"]

    nothing = Search(
        guild_id=GUILD, context=rig.context(), payload=SearchPayload(query="zzqx no such")
    )
    empty = await _answer(rig, nothing)
    assert isinstance(empty, SearchResults)
    assert empty.payload.tracks == []


def _suggest(rig: AudioRig, partial: str, **fields: Any) -> Suggest:
    return Suggest(
        guild_id=GUILD, context=rig.context(), payload=SuggestPayload(partial=partial), **fields
    )


async def test_suggest_is_answered_within_its_budget_or_not_at_all(
    search_rig: SearchRig,
) -> None:
    # a budget a live search fits in on a loaded machine
    rig = await search_rig(fast_settings(suggest_budget_s=2.0))
    # a live search within the budget
    live = await _answer(rig, _suggest(rig, "lofi"))
    assert isinstance(live, Suggestions), live
    assert live.payload.choices
    assert live.payload.interaction_token == "interaction-token"
    assert all(len(c.name) <= 100 and len(c.value) <= 100 for c in live.payload.choices)
    # from the cache: no node request
    cached = await _answer(rig, _suggest(rig, "LoFi "))
    assert isinstance(cached, Suggestions)
    assert cached.payload.choices == live.payload.choices
    assert await _loads(rig) == ["ytsearch:lofi"]

    # a node slower than the budget: no answer at all, but its result fills the cache
    await rig.emulator.control.delay(5_000, path_prefix="/v4/loadtracks", times=1)
    slow = await rig.send(_suggest(rig, "chill"))
    await _settled(rig)
    assert [m for m in rig.discord.seen if m.correlation_id == slow.id] == []
    # later keystrokes join the request under way (no second one) and, once it is back,
    # are answered from the cache
    deadline = time.monotonic() + 15
    while True:
        later = await rig.send(_suggest(rig, "chill"))
        await _settled(rig)
        answers = [m for m in rig.discord.seen if m.correlation_id == later.id]
        if answers:
            break
        assert time.monotonic() < deadline, "the slow search never filled the cache"
    assert isinstance(answers[0], Suggestions)
    assert answers[0].payload.choices
    # a suggest that waited past its budget before audio saw it: no answer, no search
    stale = await rig.send(_suggest(rig, "ambient", ts=time.time() - 5))
    await _settled(rig)
    assert [m for m in rig.discord.seen if m.correlation_id == stale.id] == []
    # refused (an unsafe link) or throttled: no answer either
    unsafe = await rig.send(_suggest(rig, "http://[::1]/"))
    await _settled(rig)
    assert [m for m in rig.discord.seen if m.correlation_id == unsafe.id] == []
    assert await _loads(rig) == ["ytsearch:lofi", "ytsearch:chill"]

    # nothing typed yet: an empty answer at once
    empty = await _answer(rig, _suggest(rig, ""))
    assert isinstance(empty, Suggestions)
    assert empty.payload.choices == []
