"""A command redelivered after its commit is applied once and answered with the stored reply."""

from __future__ import annotations

import asyncio

from audio_rig import AppliedMessage, AudioRig, AuditLog, urls

from backbeat.db.models import QueueItem
from backbeat.domain.messages.commands import (
    CommandEnvelope,
    NowPlaying,
    Play,
    QueryPayload,
    QueueView,
    Volume,
    VolumePayload,
)
from backbeat.domain.messages.to_discord import Notice, QueuePage, TrackStart, VoiceJoin

GUILD = 1_000_000_004


async def test_a_command_redelivered_after_its_commit_is_applied_once(rig: AudioRig) -> None:
    first = await rig.send(
        Play(guild_id=GUILD, context=rig.context(), payload=QueryPayload(query=urls()["one"]))
    )
    await rig.reply(first)
    committed = asyncio.Event()
    never = asyncio.Event()

    async def crash_after_commit(command: CommandEnvelope) -> None:
        if command.type == "play":
            committed.set()
            await never.wait()  # the worker dies here: committed, not acknowledged

    assert rig.worker is not None
    rig.worker.audio.after_commit = crash_after_commit
    second = await rig.send(
        Play(guild_id=GUILD, context=rig.context(), payload=QueryPayload(query=urls()["two"]))
    )
    await asyncio.wait_for(committed.wait(), 15)
    await rig.kill_worker()
    assert not await rig.replies(second), "no reply went out before the crash"
    assert len(await rig.rows(QueueItem)) == 2

    await rig.start_worker()  # same worker id: takes its pending entry back
    reply = await rig.reply(second, wait=30)
    assert isinstance(reply, Notice)
    assert reply.payload.key == "play.queued"
    assert len(await rig.rows(QueueItem)) == 2, "the redelivery added nothing"
    applied = [row.message_id for row in await rig.rows(AppliedMessage, GUILD)]
    assert applied.count(second.id) == 1
    assert [a.action for a in await rig.rows(AuditLog, GUILD)] == ["play", "play"]
    # Lavalink follows the committed state: the new worker restored the player from SQL
    await rig.discord.count(VoiceJoin, 2, GUILD)
    await rig.discord.count(TrackStart, 2, GUILD)
    player = await rig.node_player(GUILD)
    assert player is not None
    assert player["track"] is not None


async def test_read_only_commands_write_no_applied_or_audit_rows(rig: AudioRig) -> None:
    play = await rig.send(
        Play(guild_id=GUILD, context=rig.context(), payload=QueryPayload(query=urls()["one"]))
    )
    await rig.reply(play)
    page = await rig.send(QueueView(guild_id=GUILD, context=rig.context()))
    assert isinstance(await rig.reply(page), QueuePage)
    now = await rig.send(NowPlaying(guild_id=GUILD, context=rig.context()))
    assert isinstance(await rig.reply(now), Notice)
    volume = await rig.send(
        Volume(guild_id=GUILD, context=rig.context(), payload=VolumePayload(percent=80))
    )
    await rig.reply(volume)
    applied = {row.message_id for row in await rig.rows(AppliedMessage, GUILD)}
    assert applied == {play.id, volume.id}
    assert [a.action for a in await rig.rows(AuditLog, GUILD)] == ["play", "volume"]
    for command in (play, page, now, volume):
        assert len(await rig.replies(command)) == 1, command.type
