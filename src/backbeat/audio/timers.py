"""Idle and alone timers, on the delays of :class:`~backbeat.config.AudioSettings`.

- Queue ended: leave after ``idle_leave_s`` unless 24/7 or something plays again.
- Alone (listener count 0): pause after ``alone_pause_s`` (a pause the bot made), leave after
  ``alone_leave_s``, unless 24/7. A listener coming back cancels both and resumes a pause the
  bot made (never one a user made).

A timer's action runs under the guild's lock and checks again that it still applies.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from backbeat.audio.context import Audio
from backbeat.audio.guilds import GuildState
from backbeat.domain.records import SkipReason
from backbeat.observability.logging import get_logger

_log = get_logger(__name__)


class Timers:
    """Starts, cancels and fires the guild timers."""

    def __init__(self, audio: Audio) -> None:
        self.audio = audio
        self.settings = audio.settings
        audio.timers = self

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

    async def listeners_changed(self, state: GuildState) -> None:
        """Called under the guild's lock after a ``listener-count`` changed the count."""
        if state.listeners == 0:
            connected = self.audio.players.snapshot(state.guild_id) is not None
            if connected and state.alone_timer is None and not await self._stay(state):
                state.alone_timer = self._spawn(
                    state, self.settings.alone_pause_s, self._alone_pause
                )
            return
        state.cancel_alone()
        if state.paused_by_bot:
            await self._set_paused(state, False)

    async def settings_changed(self, state: GuildState) -> None:
        if await self._stay(state):
            state.cancel_timers()
            return
        connected = self.audio.players.snapshot(state.guild_id) is not None
        if state.playing is None and connected and state.idle_timer is None:
            await self.queue_ended(state)
        if state.listeners == 0 and state.alone_timer is None:
            await self.listeners_changed(state)

    # --- actions -------------------------------------------------------------------------------

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
        if audio.players.snapshot(state.guild_id) is not None:
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
            guild_id=guild_id, voice_channel_id=None, position_ms=position
        )
        state.cancel_timers()
        state.playing = None
        state.paused_by_bot = False
        state.leave_reason = reason
        await audio.players.disconnect(guild_id)
        await audio.publish_ui(state, f"delete:{reason}")
