"""End to end: the gateway and the real audio component in one process, unmodified discord.py
against the Discord emulator and lavalink.py against the Lavalink emulator, which accepts only
the voice credentials the Discord emulator issued."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from gateway_harness import FAST, Place, buttons_of, make_place, running_gateway, until

from backbeat.audio.component import COMPONENT_FACTORY as AUDIO
from backbeat.cache import CacheStore, MemoryCacheStore, RedisCacheStore, cache_keys
from backbeat.config import Settings, load_settings
from backbeat.db.engine import create_engine
from backbeat.db.migrate import migrate_to
from backbeat.gateway.component import COMPONENT_FACTORY as GATEWAY
from backbeat.gateway.component import GatewayComponent
from backbeat.observability.status import StatusServer
from backbeat.runtime import ProcessContext
from backbeat.testing.discord import DiscordEmulator
from backbeat.testing.lavalink.control_client import LavalinkControlClient
from backbeat.testing.lavalink.server import LavalinkEmulator
from backbeat.testing.voice import VoiceCredentialRegistry

EPHEMERAL = 64


@pytest.fixture
async def emulators() -> AsyncIterator[tuple[DiscordEmulator, LavalinkEmulator]]:
    registry = VoiceCredentialRegistry()
    lavalink = LavalinkEmulator(port=0, voice_registry=registry, player_update_interval=1.0)
    await lavalink.start()
    try:
        async with DiscordEmulator(port=0, voice_registry=registry) as discord_emu:
            yield discord_emu, lavalink
    finally:
        await lavalink.stop()


async def settings_for(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    emu: DiscordEmulator,
    node: LavalinkEmulator,
    db_backend: str,
    bus_backend: str,
) -> Settings:
    for name in list(os.environ):
        if name.startswith("BACKBEAT_") and not name.startswith("BACKBEAT_TEST_"):
            monkeypatch.delenv(name)
    nodes = [{"name": "n1", "url": f"http://{node.host}:{node.port}", "password": node.password}]
    values = {
        "STATUS_PORT": "0",
        "DATA_DIR": str(tmp_path),
        "DISCORD_TOKEN": emu.token,
        "DISCORD_API_BASE": emu.rest_url,
        "DISCORD_GATEWAY_URL": emu.gateway_url,
        "SHARD_COUNT": "1",
        "LAVALINK_NODES": json.dumps(nodes),
        "VOICE_CONNECT_TIMEOUT_S": "10",
    }
    if db_backend != "sqlite":
        url = request.getfixturevalue("fresh_database_url")
        engine = create_engine(url)
        await migrate_to(engine, "head")
        await engine.dispose()
        values["DATABASE_URL"] = url
    if bus_backend == "redis":
        values["REDIS_URL"] = request.getfixturevalue("redis_url")
        values["REDIS_KEY_PREFIX"] = request.getfixturevalue("redis_key_prefix")
    for name, value in values.items():
        monkeypatch.setenv(f"BACKBEAT_{name}", value)
    return load_settings(None)


async def _get(url: str) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, await response.json()


async def live_messages(emu: DiscordEmulator, place: Place) -> list[dict[str, Any]]:
    return [
        m
        for m in await emu.control.channel_messages(place.text)
        if m["embeds"] and not m.get("deleted") and not m["flags"] & EPHEMERAL
    ]


async def test_play_lofi_end_to_end_then_a_restart_converges(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    emulators: tuple[DiscordEmulator, LavalinkEmulator],
    db_backend: str,
    bus_backend: str,
) -> None:
    emu, node = emulators
    settings = await settings_for(
        monkeypatch, tmp_path, request, emu, node, db_backend, bus_backend
    )
    place = await make_place(emu)
    control = emu.control
    lavalink = LavalinkControlClient(node.control_url)
    await control.move_voice(place.guild, place.alice, place.voice)
    audio = AUDIO(settings)
    gateway = GATEWAY(settings)
    assert isinstance(gateway, GatewayComponent)
    async with StatusServer(port=0) as status:
        process = ProcessContext(settings, status)
        try:
            await audio.start(process)
            await gateway.start(process)
            await until(lambda: _ready(status.url), within=30)
            _, stats = await _get(f"{status.url}/stats")
            shards = stats["sections"]["gateway"]["shards"]
            assert [s["state"] for s in shards] == ["ready"]
            assert shards[0]["latency_ms"] is not None

            # /play lofi: the ephemeral acknowledgement, the bot joins, the message appears.
            created = await control.invoke_command(
                guild_id=place.guild,
                channel_id=place.text,
                user_id=place.alice,
                name="play",
                options={"query": "lofi"},
            )
            record = await control.interaction(created["id"], min_events=1)
            assert record["initial_response"]["type"] == 4
            assert record["original_message"]["flags"] & EPHEMERAL
            [message] = await until(lambda: live_messages(emu, place), within=30)
            assert "lofi" in message["embeds"][0]["description"].lower()
            await until(lambda: _bot_in(emu, place), within=20)
            player = await until(lambda: _playing(lavalink, place.guild), within=30)
            assert player["paused"] is False
            record = await control.interaction(created["id"], min_events=2)
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
        finally:
            await gateway.stop()
            await audio.stop()
            await process.close()
            await lavalink.close()


async def _bot_in(emu: DiscordEmulator, place: Place) -> bool:
    states = await emu.control.voice_states(place.guild)
    return any(
        s["user_id"] == str(emu.bot_user_id) and s["channel_id"] == str(place.voice) for s in states
    )


async def _ready(base: str) -> bool:
    code, _ = await _get(f"{base}/ready")
    return code == 200


async def _playing(lavalink: LavalinkControlClient, guild_id: int) -> dict[str, Any] | None:
    player = await lavalink.player(guild_id)
    return player if player and player.get("track") else None


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
