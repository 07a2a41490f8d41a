"""Seed flow "Error propagation": Lavalink reports a TrackExceptionEvent (the video is
unavailable) mid-track; audio tells ``to-discord`` (``trackException`` then ``trackEnd``
``loadFailed``), records the playback with ``skip_reason`` ``error``, skips to the next
queued track (Lavalink plays it), publishes an ``error`` (skipped) on ``ui:now``, and the user
sees the notice in the channel while the now-playing message moves to the next track.
The failure fires on the emulator's clock."""

from __future__ import annotations

import pytest
from e2e_rig import (
    Deployment,
    Taps,
    answered,
    in_order,
    live_messages,
    make_place,
    player,
    total,
    until,
)
from sqlalchemy import select

from backbeat.db.models import PlaybackHistory
from backbeat.domain.messages import Channel

pytestmark = pytest.mark.slow

FAIL_AFTER_MS = 60_000


async def test_error_propagation_flow(deployment: Deployment) -> None:
    d = deployment
    place = await make_place(d.emu)
    await d.emu.control.move_voice(place.guild, place.alice, place.voice)
    await d.lavalink.track_exception(
        after_ms=FAIL_AFTER_MS, guild_id=place.guild, kind="unavailable", times=1
    )
    for query in ("house", "jazz"):
        created = await d.emu.control.invoke_command(
            guild_id=place.guild,
            channel_id=place.text,
            user_id=place.alice,
            name="play",
            options={"query": query},
        )
        await until(lambda created=created: answered(d.emu, created["id"]))
    first = (await until(lambda: player(d.lavalink, place.guild)))["track"]["info"]
    [message] = await until(lambda: live_messages(d.emu, place.text))

    before = await d.metrics()
    async with Taps(d.bus) as taps:
        await d.lavalink.advance(FAIL_AFTER_MS + 1_000)

        async def next_track() -> dict[str, object] | None:
            found = await player(d.lavalink, place.guild)
            info = None if found is None else found["track"]["info"]
            return info if info and info["identifier"] != first["identifier"] else None

        second = await until(next_track)
        error = await taps.wait(Channel.UI_NOW, lambda m: m.type == "error")
        await taps.wait(Channel.TO_DISCORD, lambda m: m.type == "trackStart")

        async def shows_second() -> bool:
            live = await live_messages(d.emu, place.text)
            return any(str(second["identifier"]) in m["embeds"][0]["description"] for m in live)

        await until(shows_second)

        async def notice() -> list[str]:
            return [
                str(e.get("description") or e.get("title") or "")
                for m in await d.emu.control.channel_messages(place.text)
                for e in [*m["embeds"], *(x for h in m.get("history", []) for x in h["embeds"])]
                if "skipped" in str(e.get("description") or e.get("title") or "")
            ]

        told = await until(notice)

    # The bus: exception, end (loadFailed), next start; the error notice says skipped.
    assert in_order(
        taps.types(Channel.TO_DISCORD, place.guild), ["trackException", "trackEnd", "trackStart"]
    )
    [exception] = taps.of(Channel.TO_DISCORD, place.guild, "trackException")
    assert exception.payload.message == "This video is unavailable"  # type: ignore[attr-defined]
    assert exception.payload.severity == "common"  # type: ignore[attr-defined]
    [end] = taps.of(Channel.TO_DISCORD, place.guild, "trackEnd")
    assert end.payload.reason == "loadFailed"  # type: ignore[attr-defined]
    assert error.payload.skipped is True  # type: ignore[attr-defined]
    assert error.payload.text_channel_id == place.text  # type: ignore[attr-defined]
    ui = taps.types(Channel.UI_NOW, place.guild)
    assert in_order(ui, ["error", "update"])

    # Lavalink plays the next queued track; the user was told, the message moved on.
    assert second["identifier"] != first["identifier"]
    assert any("unavailable" in text for text in told), told
    live = await live_messages(d.emu, place.text)
    playing = [m["id"] for m in live if m["embeds"][0].get("title") == "🎶 Now playing"]
    assert playing == [message["id"]]  # the same now-playing message, now on the next track

    # SQL: the failed playback ended with skip_reason "error", the next one started.
    async with d.engine.connect() as conn:
        history = (
            await conn.execute(
                select(PlaybackHistory.identifier, PlaybackHistory.skip_reason)
                .where(PlaybackHistory.guild_id == place.guild)
                .order_by(PlaybackHistory.id)
            )
        ).all()
    assert [tuple(h) for h in history] == [
        (first["identifier"], "error"),
        (second["identifier"], None),
    ]

    # Metrics: the next track's play counted.
    after = await d.metrics()
    plays = total(after, "track_plays_total") - total(before, "track_plays_total")
    assert plays == 1
