"""The audio service's shared parts and the steps every handler uses.

:class:`Audio` holds the bus, the engine, the players, the repositories and the in-memory
guild states, and offers the building blocks of the handlers: run a state-changing command
exactly once, make sure voice is connected, start a queue item on the player, read the
guild's view from SQL, publish snapshots and replies.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from backbeat.audio.autoplay import AutoplayEngine
from backbeat.audio.batch_sessions import BatchSessions
from backbeat.audio.errors import CommandRefusedError, NoNodeAvailableError, VoiceTimeoutError
from backbeat.audio.guilds import Guilds, GuildState
from backbeat.audio.ledger import Effect, Ledger, Replayed, Work
from backbeat.audio.lyrics import LyricsService
from backbeat.audio.ports import Players
from backbeat.audio.replies import error_reply, summary
from backbeat.audio.search import build_searcher
from backbeat.audio.seq import StateSeq
from backbeat.bus.interface import Delivery
from backbeat.cache.search import SearchCache
from backbeat.cache.search_throttle import SearchThrottle
from backbeat.config import AudioSettings
from backbeat.db.repositories.configuration import ConfigurationRepository
from backbeat.db.repositories.history import HistoryRepository
from backbeat.db.repositories.lyrics import LyricsRepository
from backbeat.db.repositories.queue import QueueRepository, SessionView, session_changes
from backbeat.db.transactions import in_transaction
from backbeat.domain.filters import preset_of
from backbeat.domain.guild_settings import GuildSettings
from backbeat.domain.messages import Channel, Envelope
from backbeat.domain.messages.commands import CommandEnvelope
from backbeat.domain.messages.to_discord import (
    QueueEnd,
    QueueEndPayload,
    VoiceJoin,
    VoiceJoinPayload,
    VoiceLeave,
    VoiceLeavePayload,
)
from backbeat.domain.messages.ui import (
    DeletePayload,
    NowPlayingState,
    StatePayload,
    UiCreate,
    UiDelete,
    UiUpdate,
)
from backbeat.domain.playback_errors import FailureTracker, RetryPolicy
from backbeat.domain.queue import LoopMode, QueueEntry, QueueSession
from backbeat.domain.records import SkipReason
from backbeat.net.url_guard import Resolver
from backbeat.observability.logging import get_logger

if TYPE_CHECKING:
    from backbeat.audio.timers import Timers

_log = get_logger(__name__)

#: How often a command's transaction records the playing position (bursts skip it).
POSITION_SAVE_INTERVAL_S = 10.0

LEAVE_REASONS = ("requested", "idle", "empty", "error", "moved")
DELETE_REASONS = ("stopped", "disconnected", "idle", "empty")


@dataclass(frozen=True, slots=True)
class View:
    """A guild's committed state as the snapshot shows it."""

    session: QueueSession | None
    current: QueueEntry | None
    upcoming: int
    upcoming_ms: int


class Publisher(Protocol):
    """The part of the bus audio publishes through."""

    async def publish(self, channel: Channel, message: Envelope) -> str: ...


class Audio:
    """Everything the command processor, the event handler and the timers share."""

    def __init__(
        self,
        *,
        bus: Publisher,
        engine: AsyncEngine,
        players: Players,
        settings: AudioSettings,
        bot_user_id: int,
        pool: str | None = None,
        search_cache: SearchCache | None = None,
        search_throttle: SearchThrottle | None = None,
        resolver: Resolver | None = None,
    ) -> None:
        self.bus = bus
        self.engine = engine
        self.players = players
        self.settings = settings
        self.bot_user_id = bot_user_id
        retry = RetryPolicy(
            settings.play_retry_base_s, settings.play_retry_cap_s, settings.play_retry_attempts
        )
        self.guilds = Guilds(
            lambda: FailureTracker(streak_limit=settings.play_failure_streak_limit, retry=retry)
        )
        #: Every search: URL guard, provider prefix, cache, throttle, node (``audio/search.py``).
        self.searcher = build_searcher(
            settings,
            engine,
            players,
            cache=search_cache,
            throttle=search_throttle,
            resolver=resolver,
        )
        #: How a failed track's retry waits (test hook: record the backoff instead).
        self.sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
        self.seq = StateSeq()
        self.ledger = Ledger(engine) if pool is None else Ledger(engine, pool=pool)
        self.queue = QueueRepository(engine)
        self.history = HistoryRepository(engine)
        self.config = ConfigurationRepository(engine)
        self.timers: Timers | None = None
        #: Autoplay at the queue end, candidates prepared while the last track plays.
        self.autoplay = AutoplayEngine(self)
        #: Lyrics from the node's lyrics route, cached in LyricsCache.
        self.lyrics = LyricsService(
            players,
            LyricsRepository(engine),
            ttl=timedelta(seconds=settings.lyrics_cache_ttl_s),
        )
        #: Test hook: awaited right after a command's transaction committed, before Lavalink
        #: follows and before the bus acknowledges (a crash there must not apply it twice).
        self.after_commit: Callable[[CommandEnvelope], Awaitable[None]] | None = None

    # --- settings -----------------------------------------------------------------------------

    async def guild_settings(self, state: GuildState, *, reload: bool = False) -> GuildSettings:
        """The guild's settings, read once and kept until ``settings-changed``."""
        if state.settings is None or reload:
            state.settings = await self.config.get(guild_id=state.guild_id)
        return state.settings

    # --- publishing ---------------------------------------------------------------------------

    async def to_discord(self, message: Envelope | None) -> None:
        if message is not None:
            await self.bus.publish(Channel.TO_DISCORD, message)

    async def voice_request(self, guild_id: int, channel_id: int | None) -> None:
        """The :data:`~backbeat.audio.ports.VoiceRequest` the players use: op 4 via the gateway."""
        if channel_id is not None:
            await self.to_discord(
                VoiceJoin(guild_id=guild_id, payload=VoiceJoinPayload(channel_id=channel_id))
            )
            return
        state = self.guilds.known(guild_id)
        reason = state.leave_reason if state is not None else "requested"
        state_reason = reason if reason in LEAVE_REASONS else "requested"
        await self.to_discord(
            VoiceLeave(
                guild_id=guild_id,
                payload=VoiceLeavePayload(reason=state_reason),
            )
        )
        if state is not None:
            state.leave_reason = "requested"

    # --- running a command ----------------------------------------------------------------------

    async def run(
        self, state: GuildState, delivery: Delivery | None, command: CommandEnvelope, work: Work
    ) -> None:
        """Apply a state-changing command exactly once, then follow, snapshot and reply.

        The transaction also records the playing track's position (at most every
        :data:`POSITION_SAVE_INTERVAL_S`, so the session's position stays near the truth for
        a restore) before the command's own effect, and reads the
        snapshot's view after it, so no second transaction is needed for the ``ui:now``.
        """
        guild_id = state.guild_id

        async def transaction(conn: AsyncConnection) -> Effect:
            now = time.monotonic()
            snapshot = self.players.snapshot(guild_id)
            if (
                state.playing is not None
                and snapshot is not None
                and snapshot.position_time_ms  # a reading to extrapolate from (else 0 is stale)
                and now - state.position_saved >= POSITION_SAVE_INTERVAL_S
            ):
                await self.set_session(conn, guild_id, position_ms=self.position_ms(state, None))
                state.position_saved = now
            effect = await work(conn)
            if effect.ui == "update" and not self.ledger.batching:  # a batch reads it once
                effect = replace(effect, view=await self.read_view(guild_id, conn))
            return effect

        result = await self.ledger.apply(delivery, command, transaction)
        if isinstance(result, Replayed):
            _log.info(
                "command_replayed",
                guild_id=command.guild_id,
                message_id=command.id,
                type=command.type,
            )
            await self.follow_committed(state)
            await self.to_discord(result.reply)
            return
        if self.ledger.defer(state, command, result):
            return  # in a batch: the processor follows, snapshots and replies after its commit
        if self.after_commit is not None:
            await self.after_commit(command)
        await self.finish(state, command, result)

    async def finish(self, state: GuildState, command: CommandEnvelope, effect: Effect) -> None:
        reply = effect.reply
        if effect.follow is not None:
            try:
                await effect.follow()
            except CommandRefusedError as error:
                reply = error_reply(command, error.code, error.message, **error.params)
            except Exception as error:
                _log.exception(
                    "command_follow_failed",
                    guild_id=command.guild_id,
                    message_id=command.id,
                    type=command.type,
                )
                reply = error_reply(command, "player_error", f"the player failed: {error}")
        if effect.ui is not None:
            view = effect.view if isinstance(effect.view, View) else None
            await self.publish_ui(state, effect.ui, view=view)
        await self.to_discord(reply)

    async def follow_committed(self, state: GuildState) -> None:
        """Make the player follow SQL after a redelivery found its command applied: play the
        current item when a connected player is playing nothing."""
        if state.playing is not None or not self.players.is_connected(state.guild_id):
            return
        view = await self.read_view(state.guild_id)
        if view.current is not None and view.session is not None:
            await self.start_entry(
                state, view.current, view.session, start_ms=view.session.position_ms
            )
            await self.publish_ui(state, "update")

    # --- voice ----------------------------------------------------------------------------------

    def voice_channel_for(self, state: GuildState, command: CommandEnvelope) -> int:
        """The channel playback uses: the bot's own when connected, else the requester's
        (refused with ``not_in_voice`` when the requester is in none)."""
        if self.players.is_connected(state.guild_id):
            snapshot = self.players.snapshot(state.guild_id)
            if snapshot is not None and snapshot.channel_id is not None:
                return snapshot.channel_id
        if command.context.voice_channel_id is None:
            raise CommandRefusedError("not_in_voice", "join a voice channel first")
        return command.context.voice_channel_id

    async def ensure_voice(self, state: GuildState, command: CommandEnvelope) -> int:
        """Connect to the requester's channel unless connected; the channel id in use.

        A requester in no voice channel, or a handshake that times out (the players then
        leave voice, so no player is left behind), is refused with a clear error.
        """
        guild_id = state.guild_id
        if self.players.is_connected(guild_id):
            snapshot = self.players.snapshot(guild_id)
            if snapshot is not None and snapshot.channel_id is not None:
                return snapshot.channel_id
        channel_id = command.context.voice_channel_id
        if channel_id is None:
            raise CommandRefusedError("not_in_voice", "join a voice channel first")
        await self.connect(state, channel_id)
        return channel_id

    async def connect(self, state: GuildState, channel_id: int) -> None:
        state.leave_reason = "error"  # the players leave by themselves when the handshake fails
        try:
            await self.players.connect(state.guild_id, channel_id)
        except VoiceTimeoutError as error:
            state.playing = None
            raise CommandRefusedError(
                "voice_timeout",
                f"could not connect to the voice channel within {error.timeout_s:g} s",
                timeout_s=error.timeout_s,
            ) from error
        except NoNodeAvailableError as error:  # every Lavalink node down: nothing to connect on
            raise CommandRefusedError("no_node", f"no audio node is available: {error}") from error
        finally:
            state.leave_reason = "requested"

    # --- the player -----------------------------------------------------------------------------

    async def start_entry(
        self,
        state: GuildState,
        entry: QueueEntry,
        session: QueueSession,
        *,
        start_ms: int = 0,
        by_user: bool = True,
    ) -> None:
        """Play ``entry`` with the session's volume, filters and pause state.

        A user's command (``by_user``) ends any failure streak and cancels a pending retry;
        the player events' own skips and retries pass ``by_user=False``.
        """
        if by_user:
            state.failures.finished()
            state.cancel_retry()
            state.retrying = None
        state.failure = None  # a verdict not carried out belonged to what played before
        state.playing = entry
        state.cancel_idle()
        await self.players.play(
            state.guild_id,
            entry.track,
            start_ms=max(0, start_ms),
            paused=session.paused,
            volume=session.volume,
            filters=dict(session.filters) or None,
        )
        if session.upcoming == 0:
            self.autoplay.prepare(state, entry)

    def position_ms(self, state: GuildState, session: QueueSession | None) -> int:
        """The playing track's position now, from the player's last report."""
        snapshot = self.players.snapshot(state.guild_id)
        if snapshot is None or state.playing is None:
            return session.position_ms if session is not None else 0
        position = snapshot.position_ms
        if snapshot.position_time_ms and not snapshot.paused and snapshot.connected:
            position += max(0, int(time.time() * 1000) - snapshot.position_time_ms)
        length = state.playing.track.length_ms
        return max(
            0, min(position, length) if length and not state.playing.track.is_stream else position
        )

    async def close_history(
        self, conn: AsyncConnection, state: GuildState, reason: SkipReason
    ) -> None:
        """End the open PlaybackHistory row with ``reason`` in the caller's transaction."""
        if state.history_id is not None:
            await self.history.end(conn=conn, record_id=state.history_id, skip_reason=reason)
            state.history_id = None

    async def queue_ended(self, state: GuildState, session: QueueSession | None) -> None:
        """Nothing left to play: autoplay's pick when it has one; else stop, tell the
        gateway, start the idle timer."""
        if await self.autoplay.continue_queue(state, session):
            return
        state.playing = None
        if self.players.holds(state.guild_id):
            await self.players.stop(state.guild_id)
        text_channel = session.text_channel_id if session is not None else None
        await self.to_discord(
            QueueEnd(guild_id=state.guild_id, payload=QueueEndPayload(text_channel_id=text_channel))
        )
        if self.timers is not None:
            await self.timers.queue_ended(state)

    # --- sessions in a command's transaction ------------------------------------------------

    def _staging(self) -> BatchSessions | None:
        """The open batch's sessions when the running command stages its session changes."""
        batch = self.ledger.open_batch()
        return batch.sessions if batch is not None and batch.sessions.staging else None

    async def session_and_current(
        self, conn: AsyncConnection, guild_id: int
    ) -> tuple[QueueSession | None, QueueEntry | None]:
        """The guild's session and current item: from the batch's sessions for a staging
        command, else from SQL (one statement)."""
        sessions = self._staging()
        if sessions is not None:
            await sessions.ensure(conn, guild_id)
            view = sessions.view(guild_id)
        else:
            view = (await self.queue.views(guild_ids=[guild_id], conn=conn)).get(guild_id)
        return (None, None) if view is None else (view.session, view.current)

    async def set_session(
        self, conn: AsyncConnection, guild_id: int, **fields: Any
    ) -> QueueSession:
        """:meth:`QueueRepository.set_session` in the command's transaction; a staging
        command of a batch stages the change instead (written before the batch commits)."""
        sessions = self._staging()
        if sessions is not None:
            await sessions.ensure(conn, guild_id)
            if sessions.session(guild_id) is not None:
                return sessions.stage(guild_id, session_changes(**fields))
            batch = self.ledger.open_batch()
            assert batch is not None
            await batch.savepoint()  # no session row yet: written (and created) in SQL
            sessions.forget(guild_id)
        return await self.queue.set_session(guild_id=guild_id, conn=conn, **fields)

    # --- reading SQL ---------------------------------------------------------------------------

    async def read_view(self, guild_id: int, conn: AsyncConnection | None = None) -> View:
        batch = self.ledger.open_batch()
        if batch is not None and conn is batch.conn and batch.sessions.known(guild_id):
            return _view_of(batch.sessions.view(guild_id))

        async def work(connection: AsyncConnection) -> View:  # one statement
            return _view_of(
                (await self.queue.views(guild_ids=[guild_id], conn=connection)).get(guild_id)
            )

        if conn is not None:
            return await work(conn)
        return await in_transaction(self.engine, "audio.view", work, read_only=True)

    async def read_views(self, guild_ids: Iterable[int], conn: AsyncConnection) -> dict[int, View]:
        """:meth:`read_view` of many guilds in one statement (a batch's snapshots)."""
        wanted = list(guild_ids)
        views: dict[int, View] = {}
        batch = self.ledger.open_batch()
        if batch is not None and conn is batch.conn:  # what the batch read and staged
            views = {g: _view_of(batch.sessions.view(g)) for g in wanted if batch.sessions.known(g)}
        found = await self.queue.views(guild_ids=[g for g in wanted if g not in views], conn=conn)
        for guild_id in wanted:
            if guild_id not in views:
                views[guild_id] = _view_of(found.get(guild_id))
        return views

    # --- snapshots -------------------------------------------------------------------------------

    async def publish_ui(self, state: GuildState, kind: str, *, view: View | None = None) -> None:
        """Publish ``update`` (``create`` for a session's first track), or ``delete:<reason>``."""
        guild_id = state.guild_id
        if kind.startswith("delete"):
            reason = kind.partition(":")[2] or "stopped"
            if not state.ui_shown:
                return
            state.ui_shown = False
            await self.bus.publish(
                Channel.UI_NOW,
                UiDelete(
                    guild_id=guild_id,
                    payload=DeletePayload(
                        state_seq=self.seq.next(guild_id),
                        reason=reason if reason in DELETE_REASONS else "stopped",
                    ),
                ),
            )
            return
        if view is None:
            view = await self.read_view(guild_id)
        if not state.ui_shown and view.current is None:
            return  # nothing to show and nothing shown
        settings = await self.guild_settings(state)
        now_playing = self.state_of(state, view, settings)
        payload = StatePayload(state_seq=self.seq.next(guild_id), state=now_playing)
        if state.ui_shown:
            await self.bus.publish(Channel.UI_NOW, UiUpdate(guild_id=guild_id, payload=payload))
        else:
            state.ui_shown = True
            await self.bus.publish(Channel.UI_NOW, UiCreate(guild_id=guild_id, payload=payload))

    def state_of(self, state: GuildState, view: View, settings: GuildSettings) -> NowPlayingState:
        session = view.session
        entry = view.current
        return NowPlayingState(
            track=summary(entry.track) if entry is not None else None,
            position_ms=self.position_ms(state, session) if entry is not None else 0,
            paused=session.paused if session is not None else False,
            loop=session.loop_mode if session is not None else LoopMode.OFF,
            volume=session.volume if session is not None else settings.default_volume,
            autoplay=settings.autoplay_enabled,
            autoplay_mode=settings.autoplay_mode,
            is_autoplay_track=entry.is_autoplay if entry is not None else False,
            autoplay_reason=self.autoplay.reason_for(state.guild_id, entry),
            autoplay_why=self.autoplay.why_for(state.guild_id, entry),
            stay=settings.twenty_four_seven,
            filters=_filter_names(session),
            queue_length=view.upcoming,
            queue_length_ms=view.upcoming_ms,
            requester_id=entry.requester_id if entry is not None else None,
            text_channel_id=session.text_channel_id if session is not None else None,
            voice_channel_id=session.voice_channel_id if session is not None else None,
            listeners=state.listeners or 0,
        )


def _view_of(view: SessionView | None) -> View:
    if view is None:
        return View(None, None, 0, 0)
    return View(view.session, view.current, view.session.upcoming, view.upcoming_ms)


def _filter_names(session: QueueSession | None) -> list[str]:
    """The preset the session's filters are, for the snapshot (``custom`` for anything else)."""
    if session is None or not session.filters:
        return []
    name = preset_of(session.filters)
    if name == "off":
        return []
    return [name or "custom"]
