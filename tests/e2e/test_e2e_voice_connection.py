"""Seed flow "Voice connection establishment": audio asks the gateway to join
(``voice-join`` on ``to-discord``), the gateway sends Discord op 4 and forwards the raw
VOICE_STATE_UPDATE and VOICE_SERVER_UPDATE on ``to-audio``, audio hands session id, token
and endpoint to Lavalink (which checks them against what the Discord emulator issued), the
player connects, and only then the queued track plays; positions run on the emulator's clock."""

from __future__ import annotations

import pytest
from e2e_rig import Deployment, Taps, answered, bot_in, in_order, make_place, player, until
from sqlalchemy import select

from backbeat.db.models import Queue
from backbeat.domain.messages import Channel

pytestmark = pytest.mark.slow


async def test_voice_connection_flow(deployment: Deployment) -> None:
    d = deployment
    place = await make_place(d.emu)
    await d.emu.control.move_voice(place.guild, place.alice, place.voice)  # the user joins
    assert not await bot_in(d.emu, place.guild, place.voice)
    await d.lavalink.clear_requests()
    async with Taps(d.bus) as taps:
        created = await d.emu.control.invoke_command(
            guild_id=place.guild,
            channel_id=place.text,
            user_id=place.alice,
            name="play",
            options={"query": "house"},
        )
        await until(lambda: answered(d.emu, created["id"]))
        playing = await until(lambda: player(d.lavalink, place.guild))
        await taps.wait(Channel.TO_AUDIO, lambda m: m.type == "VOICE_SERVER_UPDATE")
        await taps.wait(Channel.TO_DISCORD, lambda m: m.type == "trackStart")

    # Discord: the bot is in the user's channel; the emulator issued one set of credentials.
    assert await bot_in(d.emu, place.guild, place.voice)
    issued = [
        c for c in await d.emu.control.voice_credentials() if c["guild_id"] == str(place.guild)
    ]
    assert issued

    # The bus: the join request, then the raw events forwarded in order.
    [join] = taps.of(Channel.TO_DISCORD, place.guild, "voice-join")
    assert join.payload.channel_id == place.voice  # type: ignore[attr-defined]
    raw = taps.of(Channel.TO_AUDIO, place.guild, "VOICE_STATE_UPDATE", "VOICE_SERVER_UPDATE")
    assert in_order([m.type for m in raw], ["VOICE_STATE_UPDATE", "VOICE_SERVER_UPDATE"])
    state = next(m for m in raw if m.type == "VOICE_STATE_UPDATE").payload.data  # type: ignore[attr-defined]
    server = next(m for m in raw if m.type == "VOICE_SERVER_UPDATE").payload.data  # type: ignore[attr-defined]
    assert state["user_id"] == str(d.emu.bot_user_id)
    assert state["channel_id"] == str(place.voice)
    assert join.ts <= min(m.ts for m in raw)

    # Lavalink: the voice update carries exactly those credentials; connected; then the play.
    voice = playing["voice"]
    assert voice["sessionId"] == state["session_id"]
    assert voice["token"] == server["token"]
    assert voice["endpoint"] == server["endpoint"]
    assert voice["channelId"] == str(place.voice)
    assert playing["state"]["connected"] is True
    patches = [r for r in await d.lavalink.requests("/v4/sessions/") if r.get("method") == "PATCH"]
    assert any(r["path"].endswith(f"/players/{place.guild}") for r in patches), patches
    [started] = taps.of(Channel.TO_DISCORD, place.guild, "trackStart")
    assert started.ts >= max(m.ts for m in raw)  # the track started once voice was there

    # SQL: the queue records the voice channel audio joined.
    async with d.engine.connect() as conn:
        stored = await conn.execute(
            select(Queue.voice_channel_id).where(Queue.guild_id == place.guild)
        )
        assert stored.scalar_one() == place.voice

    # Audio plays: the position moves with the emulator's clock, not the wall clock.
    start = await d.lavalink.position(place.guild)
    assert start is not None
    await d.lavalink.advance(30_000)
    moved = await d.lavalink.position(place.guild)
    assert moved is not None
    assert moved >= start + 30_000
