"""Every Lavalink node down: each waiting guild is told once, and shown playing again after.

The Lavalink layer holds the players no node can take and names their guilds in
``NodeChanged(available=False, extra={"all_down": True, "held": [...]})``, once per lost
node; the first node back re-creates them at their stored positions and names them in
``NodeChanged(available=True, extra={"restored": [...]})``. Here a held guild gets one
``ui:now`` ``error`` notice (code ``audio_unavailable``, to the session's text channel) per
outage, however many nodes or commands report it, and a restored guild a ``ui:now`` update.
Commands go on meanwhile: the SQL queue takes them, the held player keeps their effect.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from backbeat.audio.context import Audio
from backbeat.audio.ports import NodeChanged
from backbeat.domain.messages import Channel
from backbeat.domain.messages.ui import ErrorNoticePayload, UiError
from backbeat.observability.logging import get_logger

_log = get_logger(__name__)

#: The notice's code and its English sentence (the gateway shows the sentence).
UNAVAILABLE_CODE = "audio_unavailable"
UNAVAILABLE_MESSAGE = "Audio is unavailable right now; playback will resume by itself."


class Outage:
    """Tells the guilds of this worker about an outage of every node, once each."""

    def __init__(self, audio: Audio) -> None:
        self.audio = audio
        #: Guilds told that audio is unavailable and not yet shown playing again.
        self.told: set[int] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    def changed(self, event: NodeChanged) -> None:
        """Take a node change (without I/O: the notices run as tasks of their own)."""
        if not event.available:
            if not event.extra.get("all_down"):
                return
            for guild_id in _guild_ids(event.extra.get("held")):
                if guild_id not in self.told:
                    self.told.add(guild_id)
                    self._spawn(guild_id, self._unavailable)
            return
        restored = _guild_ids(event.extra.get("restored"))
        for guild_id in restored:
            self.told.discard(guild_id)
            self._spawn(guild_id, self._restored)
        # a guild whose player went away meanwhile (stopped, left) is told again next time
        self.told = {g for g in self.told if self.audio.players.holds(g)}

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _spawn(self, guild_id: int, action: Callable[[int], Awaitable[None]]) -> None:
        task = asyncio.create_task(self._guarded(guild_id, action))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _guarded(self, guild_id: int, action: Callable[[int], Awaitable[None]]) -> None:
        try:
            await action(guild_id)
        except Exception:
            _log.exception("outage_notice_failed", guild_id=guild_id)

    async def _unavailable(self, guild_id: int) -> None:
        audio = self.audio
        state = audio.guilds.known(guild_id)
        if state is None:
            return  # not a guild of ours (any more)
        async with state.lock:
            session = await audio.queue.session(guild_id=guild_id)
            _log.warning("audio_unavailable_notice", guild_id=guild_id)
            await audio.bus.publish(
                Channel.UI_NOW,
                UiError(
                    guild_id=guild_id,
                    payload=ErrorNoticePayload(
                        state_seq=audio.seq.next(guild_id),
                        code=UNAVAILABLE_CODE,
                        message=UNAVAILABLE_MESSAGE,
                        skipped=False,
                        text_channel_id=session.text_channel_id if session is not None else None,
                    ),
                ),
            )

    async def _restored(self, guild_id: int) -> None:
        state = self.audio.guilds.known(guild_id)
        if state is None:
            return
        async with state.lock:
            _log.info("audio_restored", guild_id=guild_id)
            await self.audio.publish_ui(state, "update")


def _guild_ids(value: object) -> list[int]:
    if not isinstance(value, list | tuple):
        return []
    return [g for g in value if isinstance(g, int)]
