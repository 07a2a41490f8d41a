"""Player controls: pause, resume, toggle, seek, volume, filters, stop, disconnect, summon.

Each commits the session change first (with the message id, in one transaction), then makes
the player follow (in a batch, pause, volume and filters changes of one guild are coalesced:
:mod:`backbeat.audio.handlers.player_patch`).
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from backbeat.audio.context import Audio
from backbeat.audio.errors import CommandRefusedError
from backbeat.audio.guilds import GuildState
from backbeat.audio.handlers.player_patch import player_for
from backbeat.audio.ledger import Effect
from backbeat.audio.replies import notice
from backbeat.bus.interface import Delivery
from backbeat.domain.filters import is_preset, preset_filters
from backbeat.domain.messages.commands import (
    Disconnect,
    Filters,
    Pause,
    Resume,
    Seek,
    Stop,
    Summon,
    Toggle,
    Volume,
)
from backbeat.domain.queue import ClearScope, QueueEntry, QueueSession
from backbeat.domain.records import SkipReason
from backbeat.domain.seek import SeekRefused, seek_target


async def current_or_refuse(
    audio: Audio, conn: AsyncConnection, guild_id: int
) -> tuple[QueueSession, QueueEntry]:
    """The session and its current item, refusing with ``nothing_playing`` when there is none."""
    session, current = await audio.session_and_current(conn, guild_id)
    if session is None or current is None:
        raise CommandRefusedError("nothing_playing", "nothing is playing")
    return session, current


async def pause(
    audio: Audio, state: GuildState, delivery: Delivery | None, command: Pause | Resume | Toggle
) -> None:
    guild_id = state.guild_id

    async def work(conn: AsyncConnection) -> Effect:
        session, _ = await current_or_refuse(audio, conn, guild_id)
        paused = not session.paused if command.type == "toggle" else command.type == "pause"
        position = audio.position_ms(state, session)
        await audio.set_session(conn, guild_id, paused=paused, position_ms=position)

        async def follow() -> None:
            state.paused_by_bot = False
            if audio.players.holds(guild_id):
                await player_for(audio.players, guild_id).set_paused(guild_id, paused)

        return Effect(
            reply=notice(command, "pause.paused" if paused else "pause.resumed"),
            audit={"paused": paused},
            follow=follow,
        )

    await audio.run(state, delivery, command, work)


async def seek(audio: Audio, state: GuildState, delivery: Delivery | None, command: Seek) -> None:
    guild_id = state.guild_id

    async def work(conn: AsyncConnection) -> Effect:
        session, current = await current_or_refuse(audio, conn, guild_id)
        try:
            target = seek_target(
                position_ms=command.payload.position_ms,
                offset_ms=command.payload.offset_ms,
                current_ms=audio.position_ms(state, session),
                length_ms=current.track.length_ms,
                is_stream=current.track.is_stream,
            )
        except SeekRefused as refused:
            raise CommandRefusedError(
                refused.code, refused.message, length_ms=current.track.length_ms
            ) from refused
        await audio.set_session(conn, guild_id, position_ms=target)

        async def follow() -> None:
            if audio.players.holds(guild_id):
                await audio.players.seek(guild_id, target)

        return Effect(
            reply=notice(command, "seek.done", position_ms=target),
            audit={"position_ms": target},
            follow=follow,
        )

    await audio.run(state, delivery, command, work)


async def volume(
    audio: Audio, state: GuildState, delivery: Delivery | None, command: Volume
) -> None:
    guild_id = state.guild_id
    percent = command.payload.percent

    async def work(conn: AsyncConnection) -> Effect:
        await audio.set_session(conn, guild_id, volume=percent)

        async def follow() -> None:
            if audio.players.holds(guild_id):
                await player_for(audio.players, guild_id).set_volume(guild_id, percent)

        return Effect(
            reply=notice(command, "volume.set", percent=percent),
            audit={"percent": percent},
            follow=follow,
        )

    await audio.run(state, delivery, command, work)


async def filters(
    audio: Audio, state: GuildState, delivery: Delivery | None, command: Filters
) -> None:
    guild_id = state.guild_id
    preset = command.payload.preset
    if not is_preset(preset):
        raise CommandRefusedError("unknown_filter", f"no filter preset {preset!r}", preset=preset)
    lavalink = preset_filters(preset)

    async def work(conn: AsyncConnection) -> Effect:
        await audio.set_session(conn, guild_id, filters=lavalink)

        async def follow() -> None:
            if audio.players.holds(guild_id):
                await player_for(audio.players, guild_id).set_filters(guild_id, lavalink)

        return Effect(
            reply=notice(command, "filters.set", preset=preset),
            audit={"preset": preset},
            events=[("settings.changed", {"filters": preset})],
            follow=follow,
        )

    await audio.run(state, delivery, command, work)


async def stop(audio: Audio, state: GuildState, delivery: Delivery | None, command: Stop) -> None:
    """Stop playback and clear the queue; voice stays (the idle timer runs)."""
    guild_id = state.guild_id

    async def work(conn: AsyncConnection) -> Effect:
        await audio.close_history(conn, state, SkipReason.STOPPED)
        removed = await audio.queue.clear(guild_id=guild_id, scope=ClearScope.ALL, conn=conn)
        await audio.queue.set_session(guild_id=guild_id, paused=False, position_ms=0, conn=conn)

        async def follow() -> None:
            state.playing = None
            state.paused_by_bot = False
            if audio.players.holds(guild_id):
                await audio.players.stop(guild_id)
            if audio.timers is not None:
                await audio.timers.queue_ended(state)

        return Effect(
            reply=notice(command, "stop.done", removed=removed),
            audit={"removed": removed},
            events=[("queue.changed", {"cleared": removed, "by": command.context.user_id})],
            follow=follow,
            ui="delete:stopped",
        )

    await audio.run(state, delivery, command, work)


async def disconnect(
    audio: Audio, state: GuildState, delivery: Delivery | None, command: Disconnect
) -> None:
    """Leave voice; the queue is kept for the next ``/play`` or ``/summon``."""
    guild_id = state.guild_id

    async def work(conn: AsyncConnection) -> Effect:
        session = await audio.queue.session(guild_id=guild_id, conn=conn)
        position = audio.position_ms(state, session)
        await audio.close_history(conn, state, SkipReason.STOPPED)
        await audio.queue.set_session(
            guild_id=guild_id, voice_channel_id=None, position_ms=position, conn=conn
        )

        async def follow() -> None:
            state.playing = None
            state.paused_by_bot = False
            state.cancel_timers()
            state.leave_reason = "requested"
            await audio.players.disconnect(guild_id)

        return Effect(
            reply=notice(command, "disconnect.done"),
            audit={},
            follow=follow,
            ui="delete:disconnected",
        )

    await audio.run(state, delivery, command, work)


async def summon(
    audio: Audio, state: GuildState, delivery: Delivery | None, command: Summon
) -> None:
    """Join (or move to) the requester's channel and carry on with the kept queue."""
    guild_id = state.guild_id
    channel_id = command.context.voice_channel_id
    if channel_id is None:
        raise CommandRefusedError("not_in_voice", "join a voice channel first")
    snapshot = audio.players.snapshot(guild_id)
    if not (
        audio.players.is_connected(guild_id) and snapshot and snapshot.channel_id == channel_id
    ):
        await audio.connect(state, channel_id)

    async def work(conn: AsyncConnection) -> Effect:
        session = await audio.queue.set_session(
            guild_id=guild_id,
            voice_channel_id=channel_id,
            text_channel_id=command.context.text_channel_id,
            conn=conn,
        )
        current = await audio.queue.current(guild_id=guild_id, conn=conn)

        async def follow() -> None:
            if current is not None and state.playing is None:
                await audio.start_entry(state, current, session, start_ms=session.position_ms)

        return Effect(
            reply=notice(command, "summon.done", channel_id=str(channel_id)),
            audit={"channel_id": channel_id},
            follow=follow,
        )

    await audio.run(state, delivery, command, work)


__all__ = [
    "current_or_refuse",
    "disconnect",
    "filters",
    "pause",
    "seek",
    "stop",
    "summon",
    "volume",
]
