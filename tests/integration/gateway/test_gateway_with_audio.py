"""End to end: the gateway and the real audio component in one process, unmodified discord.py
against the Discord emulator and lavalink.py against the Lavalink emulator, which accepts only
the voice credentials the Discord emulator issued."""

from __future__ import annotations

from typing import Any

from gateway_audio_rig import AudioSetup, bot_in, get_json, playing
from gateway_harness import (
    EPHEMERAL,
    FAST,
    Place,
    acknowledged_play,
    buttons_of,
    running_gateway,
    until,
)

from backbeat.cache import CacheStore, MemoryCacheStore, RedisCacheStore, cache_keys
from backbeat.gateway.component import GatewayComponent
from backbeat.testing.discord import DiscordEmulator
from backbeat.testing.lavalink.control_client import LavalinkControlClient


async def live_messages(emu: DiscordEmulator, place: Place) -> list[dict[str, Any]]:
    return [
        m
        for m in await emu.control.channel_messages(place.text)
        if m["embeds"] and not m.get("deleted") and not m["flags"] & EPHEMERAL
    ]


async def test_play_lofi_end_to_end_then_a_restart_converges(audio: AudioSetup) -> None:
    emu, place, settings = audio.emu, audio.place, audio.settings
    control = emu.control
    await control.move_voice(place.guild, place.alice, place.voice)
    async with audio.rig() as rig:
        lavalink, process, gateway = rig.lavalink, rig.process, rig.gateway
        assert isinstance(gateway, GatewayComponent)
        _, stats = await get_json(f"{process.status.url}/stats")
        shards = stats["sections"]["gateway"]["shards"]
        assert [s["state"] for s in shards] == ["ready"]
        assert shards[0]["latency_ms"] is not None

        # /play lofi: the ephemeral acknowledgement, the bot joins, the message appears.
        interaction_id = (await acknowledged_play(emu, place, "lofi"))["id"]
        [message] = await until(lambda: live_messages(emu, place), within=30)
        assert "lofi" in message["embeds"][0]["description"].lower()
        await until(lambda: bot_in(emu, place.guild, place.voice), within=20)
        player = await until(lambda: playing(lavalink, place.guild), within=30)
        assert player["paused"] is False
        record = await control.interaction(interaction_id, min_events=2)
        assert "Processing" not in (record["original_message"]["content"] or "")

        # Its pause button pauses the emulator's player, and the message follows.
        await control.click_component(
            message_id=message["id"], user_id=place.alice, custom_id=f"bb:pause:{place.guild}"
        )
        await until(lambda: _paused(lavalink, place.guild, True), within=20)
        await until(lambda: _shows_resume(emu, message["id"], place.guild), within=20)

        # /queue answers.
        queued = await control.invoke_command(
            guild_id=place.guild, channel_id=place.text, user_id=place.alice, name="queue"
        )
        record = await control.interaction(queued["id"], min_events=2, wait=20)
        assert record["original_message"]["embeds"][0]["title"] == "Queue"

        # Autocomplete answers within Discord's deadline (from audio or by itself).
        asked = await control.invoke_autocomplete(
            guild_id=place.guild,
            channel_id=place.text,
            user_id=place.alice,
            name="play",
            options={"query": "lo"},
            focused="query",
        )
        record = await control.interaction(asked["id"], min_events=1)
        assert record["initial_response"]["type"] == 8

        # The gateway stops (mid-playback) and a new one starts on the same bus and SQL:
        # the message converges without a duplicate and its old buttons still work.
        await gateway.stop()
        bus = await process.bus()
        engine = await process.database()
        cache: CacheStore = (
            RedisCacheStore.from_url(settings.bus.redis_url)
            if settings.bus.redis_url
            else MemoryCacheStore()
        )
        try:
            async with running_gateway(
                settings,
                bus=bus,
                engine=engine,
                cache=cache,
                keys=cache_keys(settings),
                options=FAST,
            ):
                await control.click_component(
                    message_id=message["id"],
                    user_id=place.alice,
                    custom_id=f"bb:resume:{place.guild}",
                )
                await until(lambda: _paused(lavalink, place.guild, False), within=20)
                await until(lambda: _shows_pause(emu, message["id"], place.guild), within=20)
                await control.click_component(
                    message_id=message["id"],
                    user_id=place.alice,
                    custom_id=f"bb:pause:{place.guild}",
                )
                await until(lambda: _paused(lavalink, place.guild, True), within=20)
                await until(lambda: _shows_resume(emu, message["id"], place.guild), within=20)
                live = await live_messages(emu, place)
                assert [m["id"] for m in live] == [message["id"]]
        finally:
            await cache.close()


async def _paused(lavalink: LavalinkControlClient, guild_id: int, paused: bool) -> bool:
    player = await lavalink.player(guild_id)
    return player is not None and player.get("paused") is paused


async def _button_enabled(emu: DiscordEmulator, message_id: str, custom_id: str) -> bool:
    current = await emu.control.message(message_id)
    states = {b["custom_id"]: b.get("disabled", False) for b in buttons_of(current)}
    return states.get(custom_id) is False


async def _shows_resume(emu: DiscordEmulator, message_id: str, guild_id: int) -> bool:
    return await _button_enabled(emu, message_id, f"bb:resume:{guild_id}")


async def _shows_pause(emu: DiscordEmulator, message_id: str, guild_id: int) -> bool:
    return await _button_enabled(emu, message_id, f"bb:pause:{guild_id}")
