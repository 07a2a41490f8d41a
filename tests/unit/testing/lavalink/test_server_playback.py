"""Simulated playback on the emulator's clock: position, pause, filters, ends, voice, stats."""

from __future__ import annotations

import aiohttp
from lavalink_raw_client import VOICE, RawClient, sample_identifiers

from backbeat.testing.discord.server import DiscordEmulator
from backbeat.testing.lavalink.fixtures import EmulatorFactory
from backbeat.testing.lavalink.server import LavalinkEmulator
from backbeat.testing.voice import VoiceCredentialRegistry, VoiceCredentials

GUILD = 700


async def _play(client: RawClient, key: str = "track", **extra: object) -> dict[str, object]:
    track = await client.load_track(sample_identifiers()[key])
    status, player = await client.patch(GUILD, {"track": {"encoded": track["encoded"]}, **extra})
    assert status == 200, player
    await client.collect(quiet=0.05)
    return track


async def test_position_advances_only_with_voice_and_not_paused(
    client: RawClient, lavalink_emulator: LavalinkEmulator
) -> None:
    control = lavalink_emulator.control
    await _play(client)
    await control.advance(3_000)
    assert await control.position(GUILD) == 0  # nobody pulls audio without voice
    await client.connect_voice(GUILD)
    await control.advance(4_000)
    assert await control.position(GUILD) == 4_000
    await client.patch(GUILD, {"paused": True})
    await control.advance(4_000)
    assert await control.position(GUILD) == 4_000
    await client.patch(GUILD, {"paused": False})
    await control.advance(1_000)
    assert await control.position(GUILD) == 5_000


async def test_timescale_speed_moves_position_faster(
    client: RawClient, lavalink_emulator: LavalinkEmulator
) -> None:
    await client.connect_voice(GUILD)
    await _play(client)
    await client.patch(GUILD, {"filters": {"timescale": {"speed": 2.0, "pitch": 1.0, "rate": 1.0}}})
    await lavalink_emulator.control.advance(1_000)
    assert await lavalink_emulator.control.position(GUILD) == 2_000


async def test_track_finishes_at_its_length(
    client: RawClient, lavalink_emulator: LavalinkEmulator
) -> None:
    await client.connect_voice(GUILD)
    track = await _play(client)
    length = track["info"]["length"]  # type: ignore[index]
    await lavalink_emulator.control.advance(length - 1)
    assert "TrackEndEvent(finished)" not in await client.events()
    await lavalink_emulator.control.advance(1)
    end = await client.event("TrackEndEvent")
    assert end["reason"] == "finished"
    assert end["track"]["info"]["identifier"] == track["info"]["identifier"]  # type: ignore[index]
    _status, player = await client.request("GET", client.player_path(GUILD))
    assert player["track"] is None


async def test_streams_never_end(client: RawClient, lavalink_emulator: LavalinkEmulator) -> None:
    await client.connect_voice(GUILD)
    await _play(client, "stream")
    await lavalink_emulator.control.advance(6 * 3600 * 1000)
    assert "TrackEndEvent(finished)" not in await client.events()
    assert await lavalink_emulator.control.position(GUILD) == 6 * 3600 * 1000


async def test_periodic_player_updates_follow_the_interval(
    client: RawClient, lavalink_emulator: LavalinkEmulator
) -> None:
    await client.connect_voice(GUILD)
    await _play(client)
    for _ in range(3):
        await lavalink_emulator.control.advance(5_000)
    updates = [m for m in await client.collect() if m["op"] == "playerUpdate"]
    assert [u["state"]["position"] for u in updates] == [5_000, 10_000, 15_000]


async def test_unattended_track_is_cleaned_up(
    client: RawClient, lavalink_emulator: LavalinkEmulator
) -> None:
    await _play(client)
    await lavalink_emulator.control.advance(60_000)
    assert "TrackEndEvent(cleanup)" in await client.events()


async def test_stats_count_playing_players_and_frames(
    client: RawClient, lavalink_emulator: LavalinkEmulator
) -> None:
    await client.connect_voice(GUILD)
    await _play(client)
    await lavalink_emulator.control.advance(60_000)
    stats = await client.until(lambda m: m["op"] == "stats")
    assert stats["players"] == 1
    assert stats["playingPlayers"] == 1
    assert stats["frameStats"] == {"sent": 3000, "nulled": 0, "deficit": 0}


async def test_registry_refuses_voice_not_issued(
    lavalink_emulator_factory: EmulatorFactory,
) -> None:
    registry = VoiceCredentialRegistry()
    node = await lavalink_emulator_factory(manual_clock=True, voice_registry=registry)
    async with aiohttp.ClientSession() as http:
        client = await RawClient.connect(node, http, user_id=55)
        await client.collect()
        status, player = await client.patch(GUILD, {"voice": VOICE})
        assert status == 200
        assert player["state"]["connected"] is False
        closed = await client.event("WebSocketClosedEvent")
        assert (closed["code"], closed["byRemote"]) == (4006, True)
        registry.issue(
            VoiceCredentials(
                guild_id=GUILD,
                user_id=55,
                channel_id=int(VOICE["channelId"]),
                session_id=VOICE["sessionId"],
                token=VOICE["token"],
                endpoint=VOICE["endpoint"],
            )
        )
        status, player = await client.patch(GUILD, {"voice": VOICE})
        assert player["state"]["connected"] is True
        await client.close()


async def test_discord_emulator_control_url_decides_voice(
    lavalink_emulator_factory: EmulatorFactory,
) -> None:
    async with DiscordEmulator() as discord_emulator:
        node = await lavalink_emulator_factory(
            manual_clock=True, discord_control_url=discord_emulator.control_url
        )
        async with aiohttp.ClientSession() as http:
            client = await RawClient.connect(node, http, user_id=77)
            status, player = await client.patch(GUILD, {"voice": VOICE})
            assert status == 200
            assert player["state"]["connected"] is False
            discord_emulator.voice_registry.issue(
                VoiceCredentials(
                    guild_id=GUILD,
                    user_id=77,
                    channel_id=int(VOICE["channelId"]),
                    session_id=VOICE["sessionId"],
                    token=VOICE["token"],
                    endpoint=VOICE["endpoint"],
                )
            )
            status, player = await client.patch(GUILD, {"voice": VOICE})
            assert player["state"]["connected"] is True
            await client.close()
