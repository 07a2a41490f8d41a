"""Idle and alone timers, on the delays of :class:`~backbeat.config.AudioSettings`.

- Queue ended: leave after ``idle_leave_s`` unless 24/7 or something plays again.
- Alone (listener count 0): pause after ``alone_pause_s`` (a pause the bot made), leave after
  ``alone_leave_s``, unless 24/7. A listener coming back cancels both and resumes a pause the
  bot made (never one a user made).

A timer's action runs under the guild's lock and checks again that it still applies.

Each deadline is stored on the queue row (``idle_leave_at``, ``alone_pause_at``,
``alone_leave_at``; cleared when the timer is cancelled or fires), so a worker that takes the
guild over arms the timers from them (:meth:`Timers.restore`) instead of starting them over:
a restart neither forgets a pending leave nor postpones it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from backbeat.audio.context import Audio
from backbeat.audio.guilds import GuildState
from backbeat.db.types import utc_now
from backbeat.domain.queue import QueueSession
from backbeat.domain.records import SkipReason
from backbeat.observability.logging import get_logger

_log = get_logger(__name__)


class Timers:
    """Starts, cancels and fires the guild timers."""

    def __init__(self, audio: Audio) -> None:
        self.audio = audio
        self.settings = audio.settings
        audio.timers = self

    async def _store(self, state: GuildState, **deadlines: datetime | None) -> None:
        """Record the timers' deadlines (best effort: a restore then starts them over)."""
        try:
            await self.audio.queue.set_session(guild_id=state.guild_id, **deadlines)  # type: ignore[arg-type]
        except Exception:
            _log.warning("timer_deadline_not_stored", guild_id=state.guild_id, exc_info=True)

    @staticmethod
    def _at(delay_s: float) -> datetime:
        return utc_now() + timedelta(seconds=delay_s)

    async def _stay(self, state: GuildState) -> bool:
        return (await self.audio.guild_settings(state)).twenty_four_seven

    def _spawn(
        self, state: GuildState, delay: float, action: Callable[[GuildState], Awaitable[None]]
    ) -> asyncio.Task[None]:
        async def later() -> None:
            await asyncio.sleep(delay)
            try:
                async with state.lock:
                    await action(state)
            except Exception:
                _log.exception("timer_failed", guild_id=state.guild_id)

        return asyncio.create_task(later())

    # --- triggers ------------------------------------------------------------------------------

    async def queue_ended(self, state: GuildState) -> None:
        state.cancel_idle()
        if await self._stay(state):
            return
        state.idle_timer = self._spawn(state, self.settings.idle_leave_s, self._idle_leave)
        await self._store(state, idle_leave_at=self._at(self.settings.idle_leave_s))

    async def listeners_changed(self, state: GuildState) -> None:
        """Called under the guild's lock after a ``listener-count`` changed the count."""
        if state.listeners == 0:
            connected = self.audio.players.holds(state.guild_id)
            if connected and state.alone_timer is None and not await self._stay(state):
                state.alone_timer = self._spawn(
                    state, self.settings.alone_pause_s, self._alone_pause
                )
                await self._store(
                    state,
                    alone_pause_at=self._at(self.settings.alone_pause_s),
                    alone_leave_at=self._at(self.settings.alone_leave_s),
                )
            return
        if state.alone_timer is not None:
            await self._store(state, alone_pause_at=None, alone_leave_at=None)
        state.cancel_alone()
        if state.paused_by_bot:
            await self._set_paused(state, False)

    async def settings_changed(self, state: GuildState) -> None:
        if await self._stay(state):
            if state.idle_timer is not None or state.alone_timer is not None:
                await self._store(
                    state, idle_leave_at=None, alone_pause_at=None, alone_leave_at=None
                )
            state.cancel_timers()
            return
        connected = self.audio.players.holds(state.guild_id)
        if state.playing is None and connected and state.idle_timer is None:
            await self.queue_ended(state)
        if state.listeners == 0 and state.alone_timer is None:
            await self.listeners_changed(state)

    # --- actions -------------------------------------------------------------------------------

    async def restore(self, state: GuildState, session: QueueSession) -> None:
        """Arm the timers a previous owner stored for the guild (under its lock): the idle
        leave of a session in voice with nothing to play, and the alone pause and leave
        (past its pause: the bot paused it, so a returning listener resumes it)."""
        now = utc_now()

        def delay(at: datetime) -> float:
            return max(0.0, (at - now).total_seconds())

        if session.voice_channel_id is None or await self._stay(state):
            return
        if session.idle_leave_at is not None and not session.has_current:
            state.cancel_idle()
            state.idle_timer = self._spawn(state, delay(session.idle_leave_at), self._idle_leave)
        if session.alone_leave_at is not None:
            state.cancel_alone()
            state.listeners = 0
            pause_at = session.alone_pause_at
            if pause_at is not None and pause_at > now:
                state.alone_timer = self._spawn(state, delay(pause_at), self._alone_pause)
            else:
                state.paused_by_bot = session.paused and session.has_current
                state.alone_timer = self._spawn(
                    state, delay(session.alone_leave_at), self._alone_leave
                )
        if state.idle_timer is not None or state.alone_timer is not None:
            _log.info(
                "timers_restored",
                guild_id=state.guild_id,
                idle=state.idle_timer is not None,
                alone=state.alone_timer is not None,
            )

    async def _idle_leave(self, state: GuildState) -> None:
        state.idle_timer = None
        if state.playing is not None or await self._stay(state):
            return
        await self.leave(state, "idle")

    async def _alone_pause(self, state: GuildState) -> None:
        if state.listeners != 0 or await self._stay(state):
            state.alone_timer = None
            return
        if state.playing is not None:
            session = await self.audio.queue.session(guild_id=state.guild_id)
            if session is not None and not session.paused:
                await self._set_paused(state, True)
                state.paused_by_bot = True
        session = await self.audio.queue.session(guild_id=state.guild_id)
        leave_at = session.alone_leave_at if session is not None else None
        if leave_at is not None:
            rest = max(0.0, (leave_at - utc_now()).total_seconds())
        else:
            rest = max(0.0, self.settings.alone_leave_s - self.settings.alone_pause_s)
        state.alone_timer = self._spawn(state, rest, self._alone_leave)

    async def _alone_leave(self, state: GuildState) -> None:
        state.alone_timer = None
        if state.listeners != 0 or await self._stay(state):
            return
        await self.leave(state, "empty")

    async def _set_paused(self, state: GuildState, paused: bool) -> None:
        audio = self.audio
        session = await audio.queue.session(guild_id=state.guild_id)
        await audio.queue.set_session(
            guild_id=state.guild_id,
            paused=paused,
            position_ms=audio.position_ms(state, session),
        )
        if not paused:
            state.paused_by_bot = False
        if audio.players.holds(state.guild_id):
            await audio.players.set_paused(state.guild_id, paused)
        await audio.publish_ui(state, "update")

    async def leave(self, state: GuildState, reason: str) -> None:
        """Leave voice (``idle`` or ``empty``): the queue stays in SQL for a later /play."""
        audio = self.audio
        guild_id = state.guild_id
        _log.info("leaving_voice", guild_id=guild_id, reason=reason)
        session = await audio.queue.session(guild_id=guild_id)
        position = audio.position_ms(state, session)
        if state.history_id is not None:
            await audio.history.end(record_id=state.history_id, skip_reason=SkipReason.STOPPED)
            state.history_id = None
        await audio.queue.set_session(
            guild_id=guild_id,
            voice_channel_id=None,
            position_ms=position,
            idle_leave_at=None,
            alone_pause_at=None,
            alone_leave_at=None,
        )
        state.cancel_timers()
        state.playing = None
        state.paused_by_bot = False
        state.leave_reason = reason
        await audio.players.disconnect(guild_id)
        await audio.publish_ui(state, f"delete:{reason}")
