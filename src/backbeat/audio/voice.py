"""The ``discord-bot:to-audio`` handler: raw voice events and listener counts.

Voice events go straight to the players and never wait for the guild's lock: a command
waiting for a voice handshake holds that lock and needs exactly these events. A listener
count updates the guild's count at once and leaves the timer work to a task that takes the
lock, so the events behind it in the guild's lane are not held up either. ``GUILD_DELETE``
(the bot left the guild) ends the session: player, queue and now-playing message.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

from backbeat.audio.context import Audio
from backbeat.audio.guilds import GuildState
from backbeat.bus.interface import Delivery
from backbeat.domain.messages.to_audio import (
    GuildDelete,
    ListenerCount,
    VoiceServerUpdate,
    VoiceStateUpdate,
)
from backbeat.domain.records import SkipReason
from backbeat.observability.logging import get_logger

_log = get_logger(__name__)


class VoiceEvents:
    """Hands voice events to the players and listener counts to the timers."""

    def __init__(self, audio: Audio) -> None:
        self.audio = audio
        self._tasks: set[asyncio.Task[None]] = set()

    async def handle(self, delivery: Delivery) -> None:
        message = delivery.message
        if isinstance(message, VoiceStateUpdate):
            data = message.payload.data
            if str(data.get("user_id")) != str(self.audio.bot_user_id):
                return  # another member's voice state: the gateway counts listeners
            await self.audio.players.voice_state(data)
        elif isinstance(message, VoiceServerUpdate):
            await self.audio.players.voice_server(message.payload.data)
        elif isinstance(message, ListenerCount):
            state = self.audio.guilds.get(message.guild_id)
            changed = state.listeners != message.payload.listeners
            state.listeners = message.payload.listeners
            if changed:
                self._spawn(self._listeners_changed(state))
        elif isinstance(message, GuildDelete):
            self._spawn(self._guild_deleted(self.audio.guilds.get(message.guild_id)))

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _guild_deleted(self, state: GuildState) -> None:
        """The bot left the guild: end the session (player, queue, UI) for good."""
        audio = self.audio
        guild_id = state.guild_id
        try:
            async with state.lock:
                if state.history_id is not None:
                    await audio.history.end(
                        record_id=state.history_id, skip_reason=SkipReason.STOPPED
                    )
                    state.history_id = None
                state.cancel_timers()
                state.playing = None
                await audio.players.destroy(guild_id)
                await audio.queue.delete_session(guild_id=guild_id)
                await audio.ledger.events.append(
                    guild_id=guild_id, type="session.ended", payload={"reason": "guild_deleted"}
                )
                await audio.publish_ui(state, "delete:stopped")
            audio.guilds.drop(guild_id)
            _log.info("guild_deleted", guild_id=guild_id)
        except Exception:
            _log.exception("guild_delete_failed", guild_id=guild_id)

    async def _listeners_changed(self, state: GuildState) -> None:
        try:
            async with state.lock:
                if self.audio.timers is not None:
                    await self.audio.timers.listeners_changed(state)
                await self.audio.publish_ui(state, "update")
        except Exception:
            _log.exception("listener_count_failed", guild_id=state.guild_id)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
