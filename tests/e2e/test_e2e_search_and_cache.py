"""Seed flow "Search and cache": ``/search`` crosses ``commands``; audio checks the search
cache, on a miss checks the user's search rate limit, asks Lavalink (``/v4/loadtracks``)
and stores the results; the same query from someone else is a cache hit that never reaches
Lavalink; a user over the limit is told "Too many searches". Every answer is a
``search-results`` or ``error-reply`` correlated to its command, shown to the user."""

from __future__ import annotations

from typing import Any

import pytest
from e2e_rig import Deployment, Place, Taps, answered, make_place, total, until
from sqlalchemy import insert

from backbeat.db.models import RateLimit
from backbeat.domain.messages import Channel

pytestmark = pytest.mark.slow


async def _search(d: Deployment, place: Place, user: int, query: str) -> dict[str, Any]:
    created = await d.emu.control.invoke_command(
        guild_id=place.guild,
        channel_id=place.text,
        user_id=user,
        name="search",
        options={"query": query},
    )
    record: dict[str, Any] = await until(lambda: answered(d.emu, created["id"]))
    return record


async def _loads(d: Deployment) -> list[dict[str, Any]]:
    return await d.lavalink.requests("/v4/loadtracks")


def _shown(record: dict[str, Any]) -> str:
    message = record["original_message"]
    return (
        str(message.get("content") or "")
        + str(message.get("embeds"))
        + str(message.get("components"))
    )


async def test_search_and_cache_flow(deployment: Deployment) -> None:
    d = deployment
    place = await make_place(d.emu)
    for user in (place.alice, place.bob):  # /search wants its user in a voice channel
        await d.emu.control.move_voice(place.guild, user, place.voice)
    async with d.engine.begin() as conn:  # this guild: two live searches a minute per user
        await conn.execute(
            insert(RateLimit).values(
                guild_key=place.guild, bucket="music.search", max_uses=2, window_seconds=60
            )
        )
    await d.lavalink.clear_requests()
    before = await d.metrics()
    async with Taps(d.bus) as taps:
        # A miss: Lavalink searched once, the results shown.
        first = await _search(d, place, place.alice, "lofi hip hop")
        assert len(await _loads(d)) == 1
        assert "lofi" in _shown(first).lower()
        # The same query by bob: a hit, Lavalink not asked again, the same results.
        second = await _search(d, place, place.bob, "lofi hip hop")
        assert len(await _loads(d)) == 1
        assert _shown(second) == _shown(first)
        # alice's second live search is allowed, her third refused before Lavalink.
        await _search(d, place, place.alice, "smooth jazz")
        assert len(await _loads(d)) == 2
        refused = await _search(d, place, place.alice, "deep house")
        assert len(await _loads(d)) == 2
        assert "Too many searches" in _shown(refused)
        await taps.wait(Channel.TO_DISCORD, lambda m: m.type == "error-reply")

    # The bus: four searches, each answered once, tied by correlation id.
    commands = taps.of(Channel.COMMANDS, place.guild)
    assert [c.type for c in commands] == ["search"] * 4
    assert [c.payload.query for c in commands] == [  # type: ignore[attr-defined]
        "lofi hip hop",
        "lofi hip hop",
        "smooth jazz",
        "deep house",
    ]
    replies = taps.of(Channel.TO_DISCORD, place.guild, "search-results", "error-reply")
    assert [r.correlation_id for r in replies] == [c.id for c in commands]
    assert [r.type for r in replies] == ["search-results"] * 3 + ["error-reply"]
    hit, miss = replies[1].payload.tracks, replies[0].payload.tracks  # type: ignore[attr-defined]
    assert hit == miss
    assert miss

    # Metrics: one hit; the three other searches missed (the refused one too).
    after = await d.metrics()

    def moved(name: str, **labels: str) -> float:
        return total(after, name, **labels) - total(before, name, **labels)

    assert moved("search_cache_lookups_total", outcome="hit") == 1
    assert moved("search_cache_lookups_total", outcome="miss") >= 3  # each lookup counts
    assert moved("audio_command_duration_seconds_count", command="search") == 4
