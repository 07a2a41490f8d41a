"""The ``discord-bot:to-audio`` handler: raw voice events and listener counts.

Voice events go straight to the players and never wait for the guild's lock: a command
waiting for a voice handshake holds that lock and needs exactly these events. A listener
count updates the guild's count at once and leaves the timer work to a task that takes the
lock, so the events behind it in the guild's lane are not held up either.
"""

from __future__ import annotations

import asyncio

from backbeat.audio.context import Audio
from backbeat.audio.guilds import GuildState
from backbeat.bus.interface import Delivery
from backbeat.domain.messages.to_audio import ListenerCount, VoiceServerUpdate, VoiceStateUpdate
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
                task = asyncio.create_task(self._listeners_changed(state))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

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
