"""The voice handshake through the bus: events in any order, duplicated, one missing; a
moderator's move and disconnect; a hanging handshake does not hold up another guild."""

from __future__ import annotations

import asyncio
import time

import pytest
from audio_rig import AudioRig, PlaybackHistory, RigFactory, fast_settings, urls

from backbeat.db.models import Queue, QueueItem
from backbeat.domain.messages import Channel
from backbeat.domain.messages.commands import Pause, Play, QueryPayload, Summon
from backbeat.domain.messages.to_audio import GuildDelete
from backbeat.domain.messages.to_discord import (
    ErrorReply,
    Notice,
    TrackStart,
    VoiceJoin,
    VoiceLeave,
)
from backbeat.domain.messages.ui import UiDelete

GUILD = 1_000_000_006  # partition 0 of 2
OTHER = 1_000_000_008  # partition 0 too


def _play(rig: AudioRig, guild_id: int = GUILD, key: str = "one") -> Play:
    return Play(guild_id=guild_id, context=rig.context(), payload=QueryPayload(query=urls()[key]))


@pytest.mark.parametrize("mode", ["state-first", "server-first", "duplicated"])
async def test_the_handshake_completes_in_any_order(rig: AudioRig, mode: str) -> None:
    rig.voice_modes[GUILD] = mode  # type: ignore[assignment]
    command = await rig.send(_play(rig))
    reply = await rig.reply(command)
    assert isinstance(reply, Notice)
    assert reply.payload.key == "play.started"
    player = await rig.node_player(GUILD)
    assert player is not None
    assert player["voice"]["channelId"] == "9001"
    assert player["state"]["connected"] is True
    assert len(rig.discord.of(VoiceJoin, GUILD)) == 1


async def test_a_missing_voice_event_times_out_cleanly(make_rig: RigFactory) -> None:
    rig = await make_rig(fast_settings(voice_connect_timeout_s=1.0))
    rig.voice_modes[GUILD] = "no-server"
    command = await rig.send(_play(rig))
    reply = await rig.reply(command)
    assert isinstance(reply, ErrorReply)
    assert reply.payload.code == "voice_timeout"
    leave = await rig.discord.wait(VoiceLeave, lambda m: m.guild_id == GUILD)
    assert leave.payload.reason == "error"
    assert await rig.node_player(GUILD) is None
    assert rig.players is not None
    assert rig.players.snapshot(GUILD) is None
    assert len(await rig.replies(command)) == 1

    # the queue is kept: a second try with a working gateway plays what was asked
    rig.voice_modes[GUILD] = "state-first"
    summon = await rig.send(Summon(guild_id=GUILD, context=rig.context()))
    assert isinstance(await rig.reply(summon), Notice)
    await rig.discord.wait(TrackStart, lambda m: m.guild_id == GUILD)


async def test_a_hanging_handshake_does_not_delay_another_guild(make_rig: RigFactory) -> None:
    rig = await make_rig(fast_settings(voice_connect_timeout_s=8.0))
    rig.voice_modes[GUILD] = "silent"
    hanging = await rig.send(_play(rig, GUILD))
    await rig.discord.wait(VoiceJoin, lambda m: m.guild_id == GUILD)
    other = await rig.send(_play(rig, OTHER))
    reply = await rig.reply(other)
    assert isinstance(reply, Notice)
    assert not await rig.replies(hanging), "the other guild waited for the hanging handshake"
    answer = await rig.reply(hanging)
    assert isinstance(answer, ErrorReply)
    assert answer.payload.code == "voice_timeout"


async def test_commands_during_a_handshake_apply_in_order(rig: AudioRig) -> None:
    rig.voice_modes[GUILD] = "silent"
    play = await rig.send(_play(rig))
    await rig.discord.wait(VoiceJoin, lambda m: m.guild_id == GUILD)
    pause = await rig.send(Pause(guild_id=GUILD, context=rig.context()))
    await asyncio.sleep(0.3)
    assert not await rig.replies(pause)
    await rig.voice_state(GUILD, 9_001)
    await rig.voice_server(GUILD)
    assert isinstance(await rig.reply(play), Notice)
    assert isinstance(await rig.reply(pause), Notice)
    first_play = next(i for i, m in enumerate(rig.discord.seen) if m.correlation_id == play.id)
    first_pause = next(i for i, m in enumerate(rig.discord.seen) if m.correlation_id == pause.id)
    assert first_play < first_pause


async def test_moved_by_a_moderator(rig: AudioRig) -> None:
    await rig.reply(await rig.send(_play(rig)))
    await rig.discord.wait(TrackStart, lambda m: m.guild_id == GUILD)
    await rig.voice_state(GUILD, 9_002)
    deadline = time.monotonic() + 15
    while True:
        rows = await rig.rows(Queue, GUILD)
        player = await rig.node_player(GUILD)
        if (
            rows
            and rows[0].voice_channel_id == 9_002
            and player
            and (player["voice"]["channelId"] == "9002")
        ):
            break
        assert time.monotonic() < deadline, (rows, player)
        await asyncio.sleep(0.05)


async def test_disconnected_by_a_moderator(rig: AudioRig) -> None:
    await rig.reply(await rig.send(_play(rig)))
    await rig.reply(await rig.send(_play(rig, key="two")))
    await rig.discord.wait(TrackStart, lambda m: m.guild_id == GUILD)
    await rig.voice_state(GUILD, None)
    await rig.ui.wait(UiDelete, lambda m: m.payload.reason == "disconnected")
    history = await rig.rows(PlaybackHistory, GUILD)
    assert [h.skip_reason for h in history] == ["stopped"]
    assert len(await rig.rows(QueueItem)) == 2, "the queue is kept"
    assert await rig.node_player(GUILD) is None
    assert (await rig.rows(Queue, GUILD))[0].voice_channel_id is None


async def test_guild_delete_ends_the_session(rig: AudioRig) -> None:
    await rig.reply(await rig.send(_play(rig)))
    await rig.discord.wait(TrackStart, lambda m: m.guild_id == GUILD)
    await rig.bus.publish(Channel.TO_AUDIO, GuildDelete(guild_id=GUILD))
    await rig.ui.wait(UiDelete, lambda m: m.guild_id == GUILD)
    assert not await rig.rows(Queue, GUILD)
    assert not await rig.rows(QueueItem)
    assert [h.skip_reason for h in await rig.rows(PlaybackHistory, GUILD)] == ["stopped"]
    assert await rig.node_player(GUILD) is None
