"""Queue commands: skip, voteskip, previous, loop, shuffle, remove, move, clear, and the
read-only queue and nowplaying (which write no applied or audit rows)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from backbeat.audio.context import Audio
from backbeat.audio.errors import CommandRefusedError
from backbeat.audio.guilds import GuildState
from backbeat.audio.handlers.controls import current_or_refuse
from backbeat.audio.ledger import Effect
from backbeat.audio.replies import notice, summary, target
from backbeat.bus.interface import Delivery
from backbeat.domain.messages.commands import (
    Clear,
    CommandEnvelope,
    Loop,
    Move,
    NowPlaying,
    Previous,
    QueueView,
    Remove,
    Shuffle,
    Skip,
    VoteSkip,
)
from backbeat.domain.messages.to_discord import QueueEntry as WireEntry
from backbeat.domain.messages.to_discord import QueuePage, QueuePagePayload
from backbeat.domain.queue import ClearScope, LoopMode, QueueEntry
from backbeat.domain.records import SkipReason
from backbeat.domain.voteskip import votes_needed

PAGE_SIZE = 10


async def _skip_effect(
    audio: Audio,
    state: GuildState,
    conn: AsyncConnection,
    command: CommandEnvelope,
    *,
    count: int,
    reply_key: str,
    **params: str | int | float | bool,
) -> Effect:
    """Skip ``count`` tracks in the caller's transaction; play the new current one after."""
    guild_id = state.guild_id
    session, current = await current_or_refuse(audio, conn, guild_id)
    nxt: QueueEntry | None
    if count <= session.upcoming:
        nxt = await audio.queue.skip_to(guild_id=guild_id, index=count - 1, conn=conn)
    elif count == 1:
        mode = LoopMode.QUEUE if session.loop_mode is LoopMode.QUEUE else LoopMode.OFF
        nxt = await audio.queue.advance(guild_id=guild_id, loop_mode=mode, conn=conn)
    else:
        raise CommandRefusedError(
            "skip_out_of_range", "there are not that many tracks", upcoming=session.upcoming
        )
    await audio.close_history(conn, state, SkipReason.SKIPPED)
    after = await audio.queue.set_session(guild_id=guild_id, paused=False, conn=conn)

    async def follow() -> None:
        state.reset_votes(None)
        if nxt is not None:
            await audio.start_entry(state, nxt, after)
        else:
            await audio.queue_ended(state, after)

    return Effect(
        reply=notice(command, reply_key, title=current.track.title, count=count, **params),
        audit={"count": count, "skipped": current.track.identifier},
        events=[("track.ended", {"reason": "skipped", "identifier": current.track.identifier})],
        follow=follow,
    )


async def skip(audio: Audio, state: GuildState, delivery: Delivery | None, command: Skip) -> None:
    async def work(conn: AsyncConnection) -> Effect:
        return await _skip_effect(
            audio, state, conn, command, count=command.payload.count, reply_key="skip.done"
        )

    await audio.run(state, delivery, command, work)


async def voteskip(
    audio: Audio, state: GuildState, delivery: Delivery | None, command: VoteSkip
) -> None:
    """Count a vote for the current track; skip once the guild's ratio of listeners voted."""
    settings = await audio.guild_settings(state)
    voter = command.context.user_id

    async def work(conn: AsyncConnection) -> Effect:
        _, current = await current_or_refuse(audio, conn, state.guild_id)
        if state.vote_item_id != current.item_id:
            state.reset_votes(current.item_id)
        votes = state.votes | {voter}
        needed = votes_needed(settings.vote_skip_ratio, state.listeners)
        if len(votes) >= needed:
            return await _skip_effect(
                audio,
                state,
                conn,
                command,
                count=1,
                reply_key="voteskip.skipped",
                votes=len(votes),
                needed=needed,
            )

        async def follow() -> None:
            state.votes.add(voter)

        return Effect(
            reply=notice(command, "voteskip.voted", votes=len(votes), needed=needed),
            audit={"votes": len(votes), "needed": needed},
            follow=follow,
            ui=None,
        )

    await audio.run(state, delivery, command, work)


async def previous(
    audio: Audio, state: GuildState, delivery: Delivery | None, command: Previous
) -> None:
    guild_id = state.guild_id

    async def work(conn: AsyncConnection) -> Effect:
        entry = await audio.queue.previous(guild_id=guild_id, conn=conn)
        if entry is None:
            raise CommandRefusedError("no_previous", "there is no previous track")
        await audio.close_history(conn, state, SkipReason.SKIPPED)
        session = await audio.queue.set_session(guild_id=guild_id, paused=False, conn=conn)

        async def follow() -> None:
            await audio.ensure_voice(state, command)
            await audio.start_entry(state, entry, session)

        return Effect(
            reply=notice(command, "previous.done", title=entry.track.title),
            audit={"identifier": entry.track.identifier},
            follow=follow,
        )

    await audio.run(state, delivery, command, work)


async def loop(audio: Audio, state: GuildState, delivery: Delivery | None, command: Loop) -> None:
    mode = command.payload.mode

    async def work(conn: AsyncConnection) -> Effect:
        await audio.set_session(conn, state.guild_id, loop_mode=mode)
        return Effect(
            reply=notice(command, "loop.set", mode=mode.value), audit={"mode": mode.value}
        )

    await audio.run(state, delivery, command, work)


async def shuffle(
    audio: Audio, state: GuildState, delivery: Delivery | None, command: Shuffle
) -> None:
    async def work(conn: AsyncConnection) -> Effect:
        count = await audio.queue.shuffle(guild_id=state.guild_id, conn=conn)
        if count < 2:
            raise CommandRefusedError("nothing_to_shuffle", "there is nothing to shuffle")
        return Effect(
            reply=notice(command, "shuffle.done", count=count),
            audit={"count": count},
            events=[("queue.changed", {"shuffled": count, "by": command.context.user_id})],
        )

    await audio.run(state, delivery, command, work)


async def remove(
    audio: Audio, state: GuildState, delivery: Delivery | None, command: Remove
) -> None:
    position = command.payload.position

    async def work(conn: AsyncConnection) -> Effect:
        removed = await audio.queue.remove(guild_id=state.guild_id, index=position - 1, conn=conn)
        if removed is None:
            raise CommandRefusedError(
                "no_such_position", f"there is no track at position {position}", position=position
            )
        return Effect(
            reply=notice(command, "remove.done", title=removed.track.title, position=position),
            audit={"position": position, "identifier": removed.track.identifier},
            events=[("queue.changed", {"removed": position, "by": command.context.user_id})],
        )

    await audio.run(state, delivery, command, work)


async def move(audio: Audio, state: GuildState, delivery: Delivery | None, command: Move) -> None:
    source, dest = command.payload.from_position, command.payload.to_position

    async def work(conn: AsyncConnection) -> Effect:
        moved = await audio.queue.move(
            guild_id=state.guild_id, from_index=source - 1, to_index=dest - 1, conn=conn
        )
        if moved is None:
            raise CommandRefusedError(
                "no_such_position", "one of the positions is not in the queue",
                from_position=source, to_position=dest,
            )  # fmt: skip
        return Effect(
            reply=notice(command, "move.done", title=moved.track.title, to_position=dest),
            audit={"from_position": source, "to_position": dest},
            events=[("queue.changed", {"moved": [source, dest], "by": command.context.user_id})],
        )

    await audio.run(state, delivery, command, work)


async def clear(audio: Audio, state: GuildState, delivery: Delivery | None, command: Clear) -> None:
    async def work(conn: AsyncConnection) -> Effect:
        removed = await audio.queue.clear(
            guild_id=state.guild_id, scope=ClearScope.UPCOMING, conn=conn
        )
        return Effect(
            reply=notice(command, "clear.done", removed=removed),
            audit={"removed": removed},
            events=[("queue.changed", {"cleared": removed, "by": command.context.user_id})],
        )

    await audio.run(state, delivery, command, work)


async def queue_page(
    audio: Audio, state: GuildState, delivery: Delivery | None, command: QueueView
) -> None:
    """Read-only: one ``queue-page`` reply."""
    page = command.payload.page
    batch = audio.ledger.open_batch()  # in a batch: its connection, the reply after its commit
    conn = batch.conn if batch is not None else None
    view = await audio.read_view(state.guild_id, conn)
    listing = await audio.queue.page(
        guild_id=state.guild_id, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE, conn=conn
    )
    pages = max(1, -(-listing.total // PAGE_SIZE))
    cursor = view.session.cursor if view.session is not None else 0
    entries = [
        WireEntry(
            position=entry.position - cursor,
            track=summary(entry.track),
            requester_id=entry.requester_id,
            is_autoplay=entry.is_autoplay,
        )
        for entry in listing.items
        if entry.position - cursor >= 1
    ]
    reply = QueuePage(
        **command.reply_fields(),
        payload=QueuePagePayload(
            target=target(command),
            page=min(page, pages),
            pages=pages,
            total=listing.total,
            total_length_ms=view.upcoming_ms,
            now_playing=summary(listing.current.track) if listing.current else None,
            entries=entries,
        ),
    )
    if batch is not None:
        batch.answer(state, command, reply, replayed=False)
        return
    await audio.to_discord(reply)


async def nowplaying(
    audio: Audio, state: GuildState, delivery: Delivery | None, command: NowPlaying
) -> None:
    """Read-only: a fresh snapshot and a notice naming the track."""
    batch = audio.ledger.open_batch()  # in a batch: its connection, both after its commit
    view = await audio.read_view(state.guild_id, batch.conn if batch is not None else None)
    if view.current is None:
        raise CommandRefusedError("nothing_playing", "nothing is playing")
    track = view.current.track
    reply = notice(
        command,
        "nowplaying",
        title=track.title,
        author=track.author,
        position_ms=audio.position_ms(state, view.session),
        length_ms=track.length_ms,
    )
    if batch is not None:
        batch.show(state, command, reply, ui="update")
        return
    await audio.publish_ui(state, "update")
    await audio.to_discord(reply)
