"""Player events: what the nodes report, turned into queue progress, history and messages.

One task drains :meth:`Players.events` in order. Each guild event is handled under the
guild's lock in a task of its own (the lock queues waiters in arrival order, so a guild's
events keep their order while other guilds go on). A track that finished advances the queue
by its loop mode and plays the next one; an exhausted queue sends ``queueEnd`` and starts the
idle timer.

A failed track (TrackException, then TrackEnded(loadFailed)) is classified
(:func:`backbeat.domain.playback_errors.classify`) and the guild's
:class:`~backbeat.domain.playback_errors.FailureTracker` plans the next step: a retryable
failure plays the same track again from its position after an exponential backoff (its
history row stays open); a failure that is not retryable, or whose retries are used up,
closes the row with ``error``, tells the guild (a ``ui:now`` ``error``, ``skipped``, in a
sentence a user understands) and plays the next track, or takes the queue-end path. A stuck
track is played again once from its position, then skipped. The streak limit's failure in
a row stops playback with one message; a user's command starts a new streak.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncConnection

from backbeat.audio.context import Audio, View
from backbeat.audio.guilds import GuildState, PendingFailure
from backbeat.audio.outage import Outage
from backbeat.audio.ports import (
    NodeChanged,
    PlayerEvent,
    PlayerPosition,
    TrackEnded,
    TrackFailed,
    TrackStarted,
    TrackStuck,
    VoiceClosed,
    VoiceDisconnected,
    VoiceMoved,
)
from backbeat.audio.replies import summary
from backbeat.audio.search import plain_message
from backbeat.db.transactions import in_transaction
from backbeat.domain.messages import Channel
from backbeat.domain.messages.to_discord import (
    TrackEnd,
    TrackEndPayload,
    TrackException,
    TrackExceptionPayload,
    TrackPayload,
    TrackStart,
    TrackStuckPayload,
)
from backbeat.domain.messages.to_discord import TrackStuck as TrackStuckMessage
from backbeat.domain.messages.ui import ErrorNoticePayload, UiError
from backbeat.domain.playback_errors import STUCK, UNKNOWN, FailureAction, FailurePlan, classify
from backbeat.domain.queue import LoopMode, QueueEntry, QueueSession
from backbeat.domain.records import SkipReason
from backbeat.observability.logging import get_logger
from backbeat.observability.metrics import (
    lavalink_nodes,
    playback_failures_total,
    track_plays_total,
)

_log = get_logger(__name__)


class PlayerEvents:
    """Handles the players' events for the guilds of this worker."""

    def __init__(self, audio: Audio) -> None:
        self.audio = audio
        self._tasks: set[asyncio.Task[None]] = set()
        self._nodes: dict[str, bool] = {}
        #: Each node's Lavalink session id, from its ready event (stored on the Queue row).
        self.sessions: dict[str, str] = {}
        #: Told every ``PlayerPosition`` without I/O (the worker records positions with it).
        self.on_position: Callable[[PlayerPosition], None] | None = None
        #: Every node down: each waiting guild told once, shown playing again after.
        self.outage = Outage(audio)

    async def run(self) -> None:
        """Drain the players' events until cancelled."""
        async for event in self.audio.players.events():
            self.dispatch(event)

    def dispatch(self, event: PlayerEvent) -> None:
        if isinstance(event, NodeChanged):
            self._nodes[event.node] = event.available
            session_id = event.extra.get("session_id")
            if event.available and isinstance(session_id, str):
                self.sessions[event.node] = session_id
            up = sum(self._nodes.values())
            lavalink_nodes.labels("available").set(up)
            lavalink_nodes.labels("unavailable").set(len(self._nodes) - up)
            self.outage.changed(event)
            return
        if isinstance(event, PlayerPosition | VoiceClosed):
            if isinstance(event, PlayerPosition) and self.on_position is not None:
                self.on_position(event)
            if isinstance(event, VoiceClosed):
                _log.info(
                    "voice_closed", guild_id=event.guild_id, code=event.code, reason=event.reason
                )
            return
        state = self.audio.guilds.known(event.guild_id)
        if state is None:
            return  # not a guild of ours (any more)
        task = asyncio.create_task(self._guarded(state, event))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.outage.close()

    async def _guarded(self, state: GuildState, event: PlayerEvent) -> None:
        try:
            async with state.lock:
                await self._handle(state, event)
        except Exception:
            _log.exception(
                "player_event_failed", guild_id=state.guild_id, kind=type(event).__name__
            )

    async def _handle(self, state: GuildState, event: PlayerEvent) -> None:
        if isinstance(event, TrackStarted):
            await self._started(state, event)
        elif isinstance(event, TrackEnded):
            await self._ended(state, event)
        elif isinstance(event, TrackFailed):
            await self._failed(state, event)
        elif isinstance(event, TrackStuck):
            await self._stuck(state, event)
        elif isinstance(event, VoiceMoved):
            await self._moved(state, event)
        elif isinstance(event, VoiceDisconnected):
            await self._disconnected(state)

    def _track_payload(
        self, state: GuildState, entry: QueueEntry, session: QueueSession | None
    ) -> TrackPayload:
        return TrackPayload(
            track=summary(entry.track),
            requester_id=entry.requester_id,
            text_channel_id=session.text_channel_id if session is not None else None,
            is_autoplay=entry.is_autoplay,
        )

    async def _started(self, state: GuildState, event: TrackStarted) -> None:
        audio = self.audio
        entry = state.playing
        if entry is None or entry.track.encoded != event.encoded:
            return  # an old play we replaced meanwhile
        if state.retrying is entry and state.history_id is not None:
            state.retrying = None  # the same track again after a failure: its row stays open
            _log.info("track_retry_started", guild_id=state.guild_id, item_id=entry.item_id)
            await audio.publish_ui(state, "update")
            return
        state.retrying = None
        guild_id = state.guild_id
        snapshot = audio.players.snapshot(guild_id)
        node = snapshot.node if snapshot is not None else None

        async def work(conn: AsyncConnection) -> View:
            await audio.close_history(conn, state, SkipReason.REPLACED)
            await audio.queue.set_session(
                guild_id=guild_id,
                node_name=node,
                lavalink_session_id=self.sessions.get(node) if node is not None else None,
                conn=conn,
            )
            record = await audio.history.start(
                conn=conn,
                guild_id=guild_id,
                track=entry.track,
                requester_id=entry.requester_id,
                is_autoplay=entry.is_autoplay,
            )
            state.history_id = record.record_id
            await audio.ledger.events.append(
                conn=conn,
                guild_id=guild_id,
                type="track.started",
                payload={"identifier": entry.track.identifier, "item_id": entry.item_id},
            )
            # the snapshot's view in this transaction (one statement, not a transaction more)
            return (await audio.read_views([guild_id], conn))[guild_id]

        view = await in_transaction(audio.engine, "audio.track_started", work)
        session = view.session
        state.reset_votes(entry.item_id)
        track_plays_total.labels(
            entry.track.source_name or "unknown", str(entry.is_autoplay).lower()
        ).inc()
        await audio.bus.publish(
            Channel.TO_DISCORD,
            TrackStart(guild_id=guild_id, payload=self._track_payload(state, entry, session)),
        )
        await audio.publish_ui(state, "update", view=view)

    async def _ended(self, state: GuildState, event: TrackEnded) -> None:
        entry = state.playing
        if entry is None or entry.track.encoded != event.encoded:
            return
        if event.reason == "finished":
            state.failures.finished()
            await self._advance(state, entry, SkipReason.FINISHED, loop=None)
        elif event.reason == "loadFailed":
            pending = state.failure
            state.failure = None
            if pending is None:  # no TrackException came first: nothing to classify
                plan = state.failures.failed(entry.item_id, UNKNOWN)
                pending = PendingFailure(plan, UNKNOWN, self.audio.position_ms(state, None))
            await self._carry_out(state, entry, pending)
        # replaced, stopped, cleanup: a command or the worker caused them and recorded why

    async def _advance(
        self,
        state: GuildState,
        entry: QueueEntry,
        reason: SkipReason,
        *,
        loop: LoopMode | None,
        play_next: bool = True,
    ) -> None:
        """Close the history row, move the queue on and play what comes next (unless
        ``play_next`` is False: a failure streak stops there, the queue-end path)."""
        audio = self.audio
        guild_id = state.guild_id

        async def work(conn: AsyncConnection) -> tuple[QueueEntry | None, QueueSession | None]:
            await audio.close_history(conn, state, reason)
            session = await audio.queue.session(guild_id=guild_id, conn=conn)
            mode = loop
            if mode is None and session is not None and session.loop_mode is LoopMode.TRACK:
                mode = LoopMode.TRACK
            nxt = await audio.queue.advance(guild_id=guild_id, loop_mode=mode, conn=conn)
            await audio.ledger.events.append(
                conn=conn,
                guild_id=guild_id,
                type="track.ended",
                payload={"identifier": entry.track.identifier, "reason": reason.value},
            )
            return nxt, await audio.queue.session(guild_id=guild_id, conn=conn)

        nxt, session = await in_transaction(audio.engine, "audio.track_ended", work)
        await audio.bus.publish(
            Channel.TO_DISCORD,
            TrackEnd(
                guild_id=guild_id,
                payload=TrackEndPayload(
                    **self._track_payload(state, entry, session).model_dump(),
                    reason="finished" if reason is SkipReason.FINISHED else "loadFailed",
                ),
            ),
        )
        state.playing = None
        if nxt is not None and session is not None and play_next:
            await audio.start_entry(state, nxt, session, by_user=False)
            await audio.publish_ui(state, "update")
        else:
            await audio.queue_ended(state, session)
            await audio.publish_ui(state, "update")

    async def _failed(self, state: GuildState, event: TrackFailed) -> None:
        """Classify a TrackException and plan the next step (the TrackEnded(loadFailed)
        that follows carries it out)."""
        entry = state.playing
        if entry is None or entry.track.encoded != event.encoded:
            return
        audio = self.audio
        session = await audio.queue.session(guild_id=state.guild_id)
        found = classify(event.message, event.cause, event.severity)
        plan = state.failures.failed(entry.item_id, found)
        state.failure = PendingFailure(plan, found, audio.position_ms(state, session))
        playback_failures_total.labels(reason=found.failure_class.value).inc()
        _log.info(
            "track_failed",
            guild_id=state.guild_id,
            item_id=entry.item_id,
            failure_class=found.failure_class.value,
            severity=found.severity.value,
            action=plan.action.value,
            message=event.message[:200],
        )
        await audio.bus.publish(
            Channel.TO_DISCORD,
            TrackException(
                guild_id=state.guild_id,
                payload=TrackExceptionPayload(
                    **self._track_payload(state, entry, session).model_dump(),
                    message=event.message[:2000],
                    severity=event.severity,
                    retryable=plan.action is FailureAction.RETRY,
                ),
            ),
        )

    async def _carry_out(
        self, state: GuildState, entry: QueueEntry, pending: PendingFailure
    ) -> None:
        """What a failed track's plan says: retry later, skip, or stop the streak."""
        plan = pending.plan
        if plan.action is FailureAction.RETRY:
            self._retry_later(state, entry, plan.delay_s, pending.position_ms)
            return
        session = await self.audio.queue.session(guild_id=state.guild_id)
        code = pending.classification.failure_class.value
        message = plain_message(pending.classification)
        await self._give_up(state, entry, session=session, plan=plan, code=code, message=message)

    def _retry_later(
        self, state: GuildState, entry: QueueEntry, delay_s: float, at_ms: int
    ) -> None:
        """Play ``entry`` again from ``at_ms`` after ``delay_s``, unless a command has moved
        playback on meanwhile."""
        audio = self.audio
        state.retrying = entry
        _log.info(
            "track_retry_scheduled",
            guild_id=state.guild_id,
            item_id=entry.item_id,
            delay_s=delay_s,
            position_ms=at_ms,
        )

        async def retry() -> None:
            await audio.sleep(delay_s)
            try:
                async with state.lock:
                    if state.playing is not entry or state.retrying is not entry:
                        return
                    session = await audio.queue.session(guild_id=state.guild_id)
                    if session is None:
                        return
                    await audio.start_entry(state, entry, session, start_ms=at_ms, by_user=False)
            except Exception:
                _log.exception("track_retry_failed", guild_id=state.guild_id)

        state.cancel_retry()
        task = asyncio.create_task(retry())
        state.retry_timer = task
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _give_up(
        self,
        state: GuildState,
        entry: QueueEntry,
        *,
        session: QueueSession | None,
        plan: FailurePlan,
        code: str,
        message: str,
    ) -> None:
        """Skip a failed track (a notice, then the next track), or stop at the streak limit
        (one message, then the queue-end path), or skip without a word (already said)."""
        state.retrying = None
        if plan.action is FailureAction.STOP:
            await self._error_notice(
                state, session, "failure_streak", plan.notice or "", skipped=False
            )
            await self._advance(state, entry, SkipReason.ERROR, loop=LoopMode.OFF, play_next=False)
            return
        if plan.action is FailureAction.SKIP:
            await self._error_notice(state, session, code, message)
        await self._advance(state, entry, SkipReason.ERROR, loop=LoopMode.OFF)

    async def _stuck(self, state: GuildState, event: TrackStuck) -> None:
        """A stuck track: played again once from its position, then skipped."""
        entry = state.playing
        if entry is None or entry.track.encoded != event.encoded:
            return
        audio = self.audio
        session = await audio.queue.session(guild_id=state.guild_id)
        plan = state.failures.stuck(entry.item_id)
        playback_failures_total.labels(reason=STUCK.failure_class.value).inc()
        _log.info(
            "track_stuck",
            guild_id=state.guild_id,
            item_id=entry.item_id,
            threshold_ms=event.threshold_ms,
            action=plan.action.value,
        )
        await audio.bus.publish(
            Channel.TO_DISCORD,
            TrackStuckMessage(
                guild_id=state.guild_id,
                payload=TrackStuckPayload(
                    **self._track_payload(state, entry, session).model_dump(),
                    threshold_ms=event.threshold_ms,
                ),
            ),
        )
        if plan.action is FailureAction.RETRY and session is not None:
            state.retrying = entry
            position = audio.position_ms(state, session)
            await audio.start_entry(state, entry, session, start_ms=position, by_user=False)
            return
        if plan.action is FailureAction.SKIP:
            await self._error_notice(state, session, "track_stuck", STUCK.user_message)
            await self._advance(state, entry, SkipReason.ERROR, loop=LoopMode.OFF)
            return
        await self._give_up(
            state, entry, session=session, plan=plan, code="track_stuck", message=STUCK.user_message
        )

    async def _error_notice(
        self,
        state: GuildState,
        session: QueueSession | None,
        code: str,
        message: str,
        *,
        skipped: bool = True,
    ) -> None:
        await self.audio.bus.publish(
            Channel.UI_NOW,
            UiError(
                guild_id=state.guild_id,
                payload=ErrorNoticePayload(
                    state_seq=self.audio.seq.next(state.guild_id),
                    code=code,
                    message=message[:2000],
                    skipped=skipped,
                    text_channel_id=session.text_channel_id if session is not None else None,
                ),
            ),
        )

    async def _moved(self, state: GuildState, event: VoiceMoved) -> None:
        await self.audio.queue.set_session(
            guild_id=state.guild_id, voice_channel_id=event.channel_id
        )
        await self.audio.ledger.events.append(
            guild_id=state.guild_id, type="voice.moved", payload={"channel_id": event.channel_id}
        )
        await self.audio.publish_ui(state, "update")

    async def _disconnected(self, state: GuildState) -> None:
        """A moderator disconnected the bot: stop, keep the queue, remove the UI."""
        audio = self.audio
        guild_id = state.guild_id
        session = await audio.queue.session(guild_id=guild_id)
        position = audio.position_ms(state, session)

        async def work(conn: AsyncConnection) -> None:
            await audio.close_history(conn, state, SkipReason.STOPPED)
            await audio.queue.set_session(
                guild_id=guild_id, voice_channel_id=None, position_ms=position, conn=conn
            )
            await audio.ledger.events.append(
                conn=conn, guild_id=guild_id, type="voice.disconnected", payload={}
            )

        await in_transaction(audio.engine, "audio.voice_disconnected", work)
        state.playing = None
        state.paused_by_bot = False
        state.cancel_timers()
        await audio.players.destroy(guild_id)
        await audio.publish_ui(state, "delete:disconnected")
