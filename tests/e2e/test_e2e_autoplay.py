"""Seed flow "Autoplay": a guild with autoplay on plays a track to its end on the Lavalink
emulator's clock; the queue has nothing after it, so audio queues and starts an autoplay
pick — ``is_autoplay`` on its queue item and on ``trackStart``, the now-playing message
marked with the autoplay indicator and the reason, ``autoplay_triggers_total`` moved for the
guild's mode — with its candidates prepared while the first track played (no search between
TrackEnd and the next track) and its start within 500 ms of TrackEnd on the emulator's clock.

Times come from the emulator, never from the test's clock: the first track's end is its
start (the emulator's clock minus the position it reports in the same snapshot) plus its
length, and the pick's start is read the same way once it plays. From the end on, the
emulator's clock moves only in 20 ms steps paced by real time, so on a busy machine it runs
slower than real time instead of outrunning the services.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from e2e_rig import (
    Deployment,
    Taps,
    answered,
    live_messages,
    make_place,
    player,
    total,
    until,
)
from sqlalchemy import select

from backbeat.db.models import Queue, QueueItem
from backbeat.domain.messages import Channel
from backbeat.testing.lavalink.catalog import Catalog

pytestmark = pytest.mark.slow

#: What /play asks for: a catalog song with related tracks (its mix), an artist and a genre.
QUERY = "Harbor Pilots"
#: The longest the pick may start after the track ended, on the emulator's clock.
GAP_MS = 500
#: While the pick is awaited the clock moves in steps of STEP_MS, up to STEPPED_MS in all,
#: and by itself at FROZEN_SPEED (about 1 ms per real second: standing still, in effect).
STEP_MS = 20
STEPPED_MS = 10_000
FROZEN_SPEED = 0.001


def _catalog_track(youtube_id: str) -> Any:
    return next(t for t in Catalog.default().tracks if t.youtube_id == youtube_id)


async def _snapshot(d: Deployment, guild: int) -> tuple[float, dict[str, Any] | None]:
    """The emulator's clock and the guild's player, taken together."""
    state = await d.lavalink.state()
    for session in state["sessions"]:
        for found in session.get("players", []):
            if found["guildId"] == str(guild) and found.get("track"):
                return float(state["clockMs"]), found
    return float(state["clockMs"]), None


def _started_at(clock_ms: float, found: dict[str, Any]) -> float:
    """When the player's track started on the emulator's clock (it plays at speed 1)."""
    return clock_ms - int(found["track"]["info"]["position"])


async def _stepped_to_the_pick(
    d: Deployment, guild: int, seed_youtube_id: str
) -> tuple[float, float, dict[str, Any]]:
    """Jump to the playing track's end with the emulator's clock all but stopped, then step
    it (:data:`STEP_MS`, paced by real time) until another track plays; the clock's speed is
    put back after. Returns the first track's end and the pick's start on the emulator's clock,
    and the pick."""
    await d.lavalink.set_speed(FROZEN_SPEED)
    try:
        clock_ms, playing = await _snapshot(d, guild)
        assert playing is not None
        assert playing["track"]["info"]["identifier"] == seed_youtube_id
        ended_at = _started_at(clock_ms, playing) + int(playing["track"]["info"]["length"])
        await d.lavalink.advance(max(0.0, ended_at - clock_ms))
        for _ in range(STEPPED_MS // STEP_MS):
            clock_ms, found = await _snapshot(d, guild)
            if found is not None and found["track"]["info"]["identifier"] != seed_youtube_id:
                return ended_at, _started_at(clock_ms, found), found
            await d.lavalink.advance(STEP_MS)
            await asyncio.sleep(STEP_MS / 1000)  # paces the emulated clock, waits for nothing
        raise AssertionError(f"no pick within {STEPPED_MS} ms of the emulator's clock")
    finally:
        await d.lavalink.set_speed(1.0)


async def _command(d: Deployment, place: Any, name: str, options: dict[str, Any]) -> str:
    created = await d.emu.control.invoke_command(
        guild_id=place.guild,
        channel_id=place.text,
        user_id=place.alice,
        name=name,
        options=options,
    )
    record = await until(lambda: answered(d.emu, created["id"]))
    return str(record["original_message"]["content"])


async def test_autoplay_flow(deployment: Deployment) -> None:
    d = deployment
    place = await make_place(d.emu)
    await d.emu.control.move_voice(place.guild, place.alice, place.voice)
    said = await _command(d, place, "autoplay", {"enabled": "on", "mode": "similar"})
    assert said.startswith("♾️ Autoplay: on"), said
    before = await d.metrics()
    async with Taps(d.bus) as taps:
        said = await _command(d, place, "play", {"query": QUERY})
        assert said.startswith("▶️ Playing **"), said
        first = await until(lambda: player(d.lavalink, place.guild))
        seed = _catalog_track(first["track"]["info"]["identifier"])
        # The candidates are gathered while the track plays: its mix, more from the artist
        # (the same search as /play's, so the search cache answers it), its genre last.
        try:
            await until(lambda: _prepared(d, seed), within=60, every=0.1)
        except TimeoutError:
            loads = await d.lavalink.requests("/v4/loadtracks")
            raise AssertionError(f"autoplay prepared nothing for {seed.id}: {loads}") from None
        await d.lavalink.clear_requests()

        # Let the track end on the emulator's clock, then let that clock flow only in
        # 20 ms steps, each at least 20 ms of real time (on a busy machine the steps come
        # slower, so the clock never outruns the services), until the pick plays.
        ended_at, started_at, picked = await _stepped_to_the_pick(d, place.guild, seed.youtube_id)
        start = await taps.wait(
            Channel.TO_DISCORD,
            lambda m: m.type == "trackStart" and m.payload.is_autoplay,  # type: ignore[attr-defined]
        )
        requests = await d.lavalink.requests("/v4/")

        async def marked() -> list[dict[str, Any]]:
            return [
                m
                for m in await live_messages(d.emu, place.text)
                if "♾️ autoplay pick" in (m["embeds"][0].get("title") or "")
            ]

        [message] = await until(marked, within=60)

    # On the emulator's clock the pick starts within 500 ms of the first track's end.
    gap = started_at - ended_at
    assert 0 <= gap + 1 <= GAP_MS + 1, f"the pick started {gap:.0f} ms after TrackEnd"
    # No search sat between the end and the pick: the candidates were ready.
    play_at = next(
        i for i, r in enumerate(requests) if r["method"] == "PATCH" and "players" in str(r["path"])
    )
    assert not [r for r in requests[:play_at] if str(r["path"]).startswith("/v4/loadtracks")]

    # The pick: a related track of the seed, is_autoplay on the queue item and trackStart.
    identifier = picked["track"]["info"]["identifier"]
    pick = _catalog_track(identifier)
    assert pick.id in seed.related or pick.song_id in seed.related, (pick.id, seed.related)
    assert start.guild_id == place.guild
    assert start.payload.track.identifier == identifier  # type: ignore[attr-defined]
    async with d.engine.connect() as conn:
        items = (
            await conn.execute(
                select(QueueItem.identifier, QueueItem.is_autoplay, QueueItem.requester_id)
                .join(Queue, Queue.id == QueueItem.queue_id)
                .where(Queue.guild_id == place.guild)
                .order_by(QueueItem.position)
            )
        ).all()
    assert [(i.identifier, bool(i.is_autoplay)) for i in items] == [
        (seed.youtube_id, False),
        (identifier, True),
    ]
    assert items[1].requester_id is None

    # The now-playing message: the autoplay indicator and why it was chosen.
    [embed] = message["embeds"]
    assert embed["title"].startswith("🎶 Now playing · ♾️ autoplay pick (similar to ")
    assert picked["track"]["info"]["title"] in embed["description"]

    # The counter moved for the guild's mode, on the audio component.
    after = await d.metrics()
    name = "autoplay_triggers_total"
    assert total(after, name, mode="similar", outcome="queued") == (
        total(before, name, mode="similar", outcome="queued") + 1
    )
    assert total(after, name, mode="artist") == total(before, name, mode="artist")


async def _prepared(d: Deployment, seed: Any) -> bool:
    """Whether the node was asked for the seed's mix and then for its genre."""
    asked = [r["query"].get("identifier", "") for r in await d.lavalink.requests("/v4/loadtracks")]
    mix = f"list=RD{seed.youtube_id}"
    at = next((i for i, q in enumerate(asked) if q.endswith(mix)), None)
    return at is not None and f"ytsearch:{seed.genres[0]}" in asked[at + 1 :]
