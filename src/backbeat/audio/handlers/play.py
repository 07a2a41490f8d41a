"""``play``, ``playnext`` and ``playnow``: resolve, enqueue in one transaction, connect, play.

Resolution happens before the transaction (it may take a while and changes nothing), and so
does the check that the requester is in a voice channel. The handshake follows the commit,
so one that times out leaves the queue as committed, for a later ``/summon`` or ``/play``.
A query that is not an http(s) URL goes to the node as ``<source>:<query>`` (``ytsearch``
by default), never bare; a URL goes as given.
"""

from __future__ import annotations

from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from backbeat.audio.context import Audio
from backbeat.audio.errors import CommandRefusedError
from backbeat.audio.guilds import GuildState
from backbeat.audio.ledger import Effect
from backbeat.audio.ports import LoadKind, LoadResult
from backbeat.audio.replies import notice
from backbeat.bus.interface import Delivery
from backbeat.db.models import Queue, QueueItem
from backbeat.domain.messages.commands import Play as PlayCommand
from backbeat.domain.messages.commands import PlayNext, PlayNow, QueryPayload
from backbeat.domain.queue import NewQueueItem, QueueTrack
from backbeat.domain.records import SkipReason

Where = Literal["end", "next", "now"]


def identifier(payload: QueryPayload) -> str:
    """What to ask the node for: a URL as given, anything else as a search."""
    query = payload.query.strip()
    if query.lower().startswith(("http://", "https://")):
        return query
    return f"{payload.source or 'ytsearch'}:{query}"


def chosen(result: LoadResult, limit: int) -> tuple[QueueTrack, ...]:
    """The tracks a load adds: the best match, or a playlist's tracks up to ``limit``."""
    if result.kind is LoadKind.PLAYLIST:
        return result.tracks[:limit]
    if result.kind in (LoadKind.TRACK, LoadKind.SEARCH):
        return result.tracks[:1]
    return ()


async def _user_upcoming(conn: AsyncConnection, guild_id: int, user_id: int) -> int:
    """How many upcoming items of the guild ``user_id`` requested."""
    value = (
        await conn.execute(
            select(func.count())
            .select_from(QueueItem)
            .join(Queue, Queue.id == QueueItem.queue_id)
            .where(
                Queue.guild_id == guild_id,
                QueueItem.requester_id == user_id,
                QueueItem.position > Queue.first_position + Queue.cursor_position,
            )
        )
    ).scalar_one()
    return int(value or 0)


async def play(
    audio: Audio,
    state: GuildState,
    delivery: Delivery | None,
    command: PlayCommand | PlayNext | PlayNow,
) -> None:
    where: Where = {"play": "end", "playnext": "next", "playnow": "now"}[command.type]  # type: ignore[assignment]
    result = await audio.players.load(identifier(command.payload))
    tracks = chosen(result, audio.settings.playlist_max_tracks)
    if not tracks:
        if result.kind is LoadKind.ERROR:
            raise CommandRefusedError(
                "load_failed", f"the track could not be loaded: {result.error or 'unknown'}"
            )
        raise CommandRefusedError("no_results", "nothing found", query=command.payload.query)
    settings = await audio.guild_settings(state)
    channel_id = audio.voice_channel_for(state, command)
    user_id = command.context.user_id
    guild_id = state.guild_id

    async def work(conn: AsyncConnection) -> Effect:
        before = await audio.queue.session(guild_id=guild_id, conn=conn)
        upcoming = before.upcoming if before is not None else 0
        had_current = before is not None and before.has_current
        room = audio.settings.guild_queue_max - upcoming
        if room <= 0:
            raise CommandRefusedError(
                "queue_full", "the queue is full", limit=audio.settings.guild_queue_max
            )
        adding = list(tracks[:room])
        if settings.max_queue_per_user is not None:
            mine = await _user_upcoming(conn, guild_id, user_id)
            left = settings.max_queue_per_user - mine
            if left <= 0:
                raise CommandRefusedError(
                    "user_queue_limit",
                    "you have reached your queue limit",
                    limit=settings.max_queue_per_user,
                )
            adding = adding[:left]
        items = [NewQueueItem(track=track, requester_id=user_id) for track in adding]
        if where == "end":
            entries = await audio.queue.append_many(guild_id=guild_id, items=items, conn=conn)
        else:
            entries = await audio.queue.insert_next(guild_id=guild_id, items=items, conn=conn)
        replacing = where == "now" and had_current
        if replacing:
            await audio.queue.skip_to(guild_id=guild_id, index=0, conn=conn)
            await audio.close_history(conn, state, SkipReason.REPLACED)
        session = await audio.queue.set_session(
            guild_id=guild_id,
            voice_channel_id=channel_id,
            text_channel_id=command.context.text_channel_id,
            conn=conn,
        )
        if replacing or not had_current:
            session = await audio.queue.set_session(
                guild_id=guild_id, paused=False, position_ms=0, conn=conn
            )
        current = await audio.queue.current(guild_id=guild_id, conn=conn)
        starts = current is not None and (replacing or state.playing is None)
        first = adding[0]
        if len(adding) > 1:
            reply = notice(
                command, "play.playlist", name=result.playlist_name or "", count=len(adding)
            )
        elif starts and current is not None:  # the current item (a kept queue plays first)
            playing = current.track
            reply = notice(command, "play.started", title=playing.title, author=playing.author)
        else:
            position = (entries[0].position - session.cursor) if entries else 0
            reply = notice(
                command, "play.queued", title=first.title, author=first.author, position=position
            )

        async def follow() -> None:
            if starts and current is not None:
                await audio.ensure_voice(state, command)
                await audio.start_entry(state, current, session)

        return Effect(
            reply=reply,
            audit={"query": command.payload.query, "added": len(adding), "where": where},
            events=[("queue.changed", {"added": len(adding), "by": user_id, "where": where})],
            follow=follow,
        )

    await audio.run(state, delivery, command, work)
