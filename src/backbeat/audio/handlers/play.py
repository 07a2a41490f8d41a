"""``play``, ``playnext`` and ``playnow``: resolve, enqueue in one transaction, connect, play.

Resolution happens before the transaction (it may take a while and changes nothing), and so
does the check that the requester is in a voice channel. The handshake follows the commit,
so one that times out leaves the queue as committed, for a later ``/summon`` or ``/play``.
Resolution is the audio service's one search path (:mod:`backbeat.audio.search`): a URL must
pass the URL-safety guard, anything else goes to the node as ``<provider>:<query>``, the
cache answers when it can, and a live search is throttled per user and per guild.
"""

from __future__ import annotations

import math
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from backbeat.audio.context import Audio
from backbeat.audio.errors import CommandRefusedError
from backbeat.audio.guilds import GuildState
from backbeat.audio.ledger import Effect
from backbeat.audio.replies import notice
from backbeat.bus.interface import Delivery
from backbeat.cache.search import Loaded
from backbeat.cache.searcher import Found
from backbeat.db.models import Queue, QueueItem
from backbeat.domain import blacklist
from backbeat.domain.guild_settings import BlacklistScope, GuildSettings
from backbeat.domain.messages.commands import CommandEnvelope, PlayNext, PlayNow
from backbeat.domain.messages.commands import Play as PlayCommand
from backbeat.domain.queue import NewQueueItem, QueueTrack
from backbeat.domain.records import SkipReason
from backbeat.domain.search_query import UnknownProviderError
from backbeat.errors import RateLimitedError, UnsafeUrlError

Where = Literal["end", "next", "now"]


async def search(
    audio: Audio, state: GuildState, command: CommandEnvelope, query: str, source: str | None
) -> Found:
    """The command's search, its refusals as the user's error replies: ``unsafe_url`` (the
    guard's sentence), ``rate_limited`` (with ``retry_after_s``), ``unknown_provider``;
    ``load_failed`` comes from the node call itself."""
    try:
        return await audio.searcher.search(
            query, guild_id=state.guild_id, user_id=command.context.user_id, source=source
        )
    except UnsafeUrlError as error:
        raise CommandRefusedError("unsafe_url", error.message, reason=error.reason) from error
    except RateLimitedError as error:
        raise CommandRefusedError(
            "rate_limited", error.message, retry_after_s=max(1, math.ceil(error.retry_after_s))
        ) from error
    except UnknownProviderError as error:
        raise CommandRefusedError("unknown_provider", str(error), source=error.provider) from error


def chosen(loaded: Loaded, limit: int) -> tuple[QueueTrack, ...]:
    """The tracks a load adds: the best match, or a playlist's tracks up to ``limit``."""
    if loaded.kind == "playlist":
        return loaded.tracks[:limit]
    return loaded.tracks[:1]


def allowed(settings: GuildSettings, tracks: tuple[QueueTrack, ...]) -> tuple[QueueTrack, ...]:
    """The tracks the guild's blacklist lets ``/play`` add: all of them unless its scope is
    ``all``; refused (``blacklisted``, naming the first track and its entry) when none is."""
    if settings.blacklist_scope is not BlacklistScope.ALL or not settings.blacklist:
        return tracks
    kept = tuple(t for t in tracks if not blacklist.matches(settings.blacklist, t))
    if not kept:
        entry = blacklist.matching(settings.blacklist, tracks[0]) or ""
        raise CommandRefusedError(
            "blacklisted", "the track is blacklisted here", title=tracks[0].title, entry=entry
        )
    return kept


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
    found = await search(audio, state, command, command.payload.query, command.payload.source)
    result = found.loaded
    tracks = chosen(result, audio.settings.playlist_max_tracks)
    if not tracks:
        raise CommandRefusedError("no_results", "nothing found", query=command.payload.query)
    settings = await audio.guild_settings(state)
    tracks = allowed(settings, tracks)
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
        _, current = await audio.session_and_current(conn, guild_id)  # one statement
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
