"""The processor's batch handler: many guilds' commands in one transaction, a failing one
(bad input, a node error) answered with its error while the others commit, exactly once
across a redelivery of the whole batch, and a guild's controls coalesced into one change."""

from __future__ import annotations

from audio_rig import AudioRig, AuditLog, urls

from backbeat.bus.interface import Delivery
from backbeat.db.models import AppliedMessage, Queue
from backbeat.domain.messages import Channel
from backbeat.domain.messages.commands import (
    CommandEnvelope,
    Loop,
    LoopPayload,
    Move,
    MovePayload,
    Pause,
    Play,
    QueryPayload,
    QueueView,
    Remove,
    RemovePayload,
    Seek,
    SeekPayload,
    Toggle,
    Volume,
    VolumePayload,
)
from backbeat.domain.messages.to_discord import ErrorReply, Notice, QueuePage, TrackStart
from backbeat.domain.messages.ui import UiUpdate
from backbeat.domain.queue import LoopMode
from backbeat.testing.bus_fixtures import eventually

A, B = 1_000_000_020, 1_000_000_022  # both partition 0 of 2


async def _notice(rig: AudioRig, command: CommandEnvelope) -> Notice:
    reply = await rig.reply(await rig.send(command))
    assert isinstance(reply, Notice), reply
    return reply


async def _setup(rig: AudioRig) -> None:
    """A plays one track; B plays one with two more queued."""
    for guild, keys in ((A, ["one"]), (B, ["one", "two", "three"])):
        for key in keys:
            await _notice(
                rig,
                Play(
                    guild_id=guild, context=rig.context(), payload=QueryPayload(query=urls()[key])
                ),
            )
        await rig.discord.count(TrackStart, 1, guild)


def _deliveries(
    rig: AudioRig, commands: list[CommandEnvelope], deliveries: int = 1
) -> list[Delivery]:
    assert rig.worker is not None
    leases = rig.worker.lease_worker.leases
    config = rig.bus.config
    found = []
    for n, command in enumerate(commands):
        partition = config.partition_of(Channel.COMMANDS, command.guild_id)
        found.append(
            Delivery(
                command,
                Channel.COMMANDS,
                partition,
                f"1-{n}",
                deliveries,
                fence=leases.token(partition),
                guard=leases,
            )
        )
    return found


async def _count(rig: AudioRig, command: CommandEnvelope, n: int) -> bool:
    return len(await rig.replies(command)) == n


async def _session(rig: AudioRig, guild: int) -> object:
    rows = await rig.rows(Queue, guild)
    assert len(rows) == 1
    return rows[0]


async def test_a_failing_command_in_a_batch_gets_its_error_and_the_others_commit(
    rig: AudioRig,
) -> None:
    await _setup(rig)
    assert rig.worker is not None
    before_audit = len(await rig.rows(AuditLog))
    volume = Volume(guild_id=A, context=rig.context(), payload=VolumePayload(percent=40))
    bad_remove = Remove(guild_id=B, context=rig.context(), payload=RemovePayload(position=99))
    remove = Remove(guild_id=B, context=rig.context(), payload=RemovePayload(position=1))
    loop_a = Loop(guild_id=A, context=rig.context(), payload=LoopPayload(mode=LoopMode.QUEUE))
    bad_move = Move(
        guild_id=B, context=rig.context(), payload=MovePayload(from_position=7, to_position=1)
    )
    loop_b = Loop(guild_id=B, context=rig.context(), payload=LoopPayload(mode=LoopMode.TRACK))
    batch = [volume, bad_remove, remove, loop_a, bad_move, loop_b]
    # the node fails the next player update: A's volume (the only one in the batch)
    await rig.emulator.control.http_errors(1, status=500, path_prefix="/v4/sessions")

    await rig.worker.processor.handle_batch(_deliveries(rig, batch))

    replies = {c.id: await rig.reply(c) for c in batch}
    for command in batch:
        assert len(await rig.replies(command)) == 1
    assert isinstance(replies[volume.id], ErrorReply)
    assert replies[volume.id].payload.code == "player_error"
    assert isinstance(replies[bad_remove.id], ErrorReply)
    assert replies[bad_remove.id].payload.code == "no_such_position"
    assert isinstance(replies[bad_move.id], ErrorReply)
    assert replies[bad_move.id].payload.code == "no_such_position"
    for ok in (remove, loop_a, loop_b):
        assert isinstance(replies[ok.id], Notice), replies[ok.id]
    applied = {row.message_id for row in await rig.rows(AppliedMessage)}
    assert {c.id for c in batch} <= applied  # refusals are recorded too (same answer again)
    # volume committed (the node failed after the commit), remove and both loops committed
    assert len(await rig.rows(AuditLog)) == before_audit + 4
    session_a, session_b = await _session(rig, A), await _session(rig, B)
    assert session_a.volume == 40
    assert session_a.loop_mode == LoopMode.QUEUE.value
    assert session_b.loop_mode == LoopMode.TRACK.value

    # the whole batch again, as redelivered: nothing applies twice, the answers repeat
    await rig.worker.processor.handle_batch(_deliveries(rig, batch, deliveries=2))
    for command in batch:
        await eventually(lambda c=command: _count(rig, c, 2))
        again = await rig.replies(command)
        # the stored reply: the volume's notice (its effect committed; the node failed after)
        assert again[1].type == ("notice" if command is volume else again[0].type)
    assert len(await rig.rows(AuditLog)) == before_audit + 4


async def test_a_guilds_controls_in_one_batch_reach_the_node_as_the_final_state(
    rig: AudioRig,
) -> None:
    await _setup(rig)
    assert rig.worker is not None
    batch: list[CommandEnvelope] = [
        Volume(guild_id=A, context=rig.context(), payload=VolumePayload(percent=30)),
        Toggle(guild_id=A, context=rig.context()),
        Volume(guild_id=A, context=rig.context(), payload=VolumePayload(percent=70)),
        Toggle(guild_id=B, context=rig.context()),
        Toggle(guild_id=B, context=rig.context()),
    ]
    page = QueueView(guild_id=B, context=rig.context())  # a read, in the batch's transaction
    await rig.worker.processor.handle_batch(_deliveries(rig, [*batch, page]))
    for command in batch:
        assert isinstance(await rig.reply(command), Notice)
    listing = await rig.reply(page)
    assert isinstance(listing, QueuePage)
    assert listing.payload.total == 2
    player_a, player_b = await rig.node_player(A), await rig.node_player(B)
    assert player_a is not None
    assert player_b is not None
    assert player_a["volume"] == 70
    assert player_a["paused"] is True
    assert player_b["paused"] is False
    session_a = await _session(rig, A)
    assert session_a.volume == 70
    assert session_a.paused is True


async def test_staged_session_changes_around_a_refusal_and_a_queue_edit_commit_in_order(
    rig: AudioRig,
) -> None:
    """Session-only commands stage their change in memory: a refused one's is dropped, a
    queue edit of the same guild writes the earlier ones first, the later ones read it
    again; SQL and the guild's snapshot show the final state."""
    await _setup(rig)
    assert rig.worker is not None
    snapshots = len(rig.ui.of(UiUpdate, B))
    pause = Pause(guild_id=B, context=rig.context())
    bad_seek = Seek(guild_id=B, context=rig.context(), payload=SeekPayload(position_ms=86_400_000))
    loop = Loop(guild_id=B, context=rig.context(), payload=LoopPayload(mode=LoopMode.QUEUE))
    remove = Remove(guild_id=B, context=rig.context(), payload=RemovePayload(position=1))
    volume = Volume(guild_id=B, context=rig.context(), payload=VolumePayload(percent=55))
    batch: list[CommandEnvelope] = [pause, bad_seek, loop, remove, volume]

    await rig.worker.processor.handle_batch(_deliveries(rig, batch))

    assert isinstance(await rig.reply(bad_seek), ErrorReply)
    for ok in (pause, loop, remove, volume):
        assert isinstance(await rig.reply(ok), Notice)
    session = await _session(rig, B)
    assert (session.paused, session.loop_mode, session.volume) == (True, "queue", 55)
    assert session.item_count == 2
    shown = await rig.ui.count(UiUpdate, snapshots + 1, B)
    state = shown[-1].payload.state
    assert (state.paused, state.loop, state.volume, state.queue_length) == (
        True, LoopMode.QUEUE, 55, 1,
    )  # fmt: skip
