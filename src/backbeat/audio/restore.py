"""Players rebuilt from SQL when this worker takes over partitions.

The SQL queue is the system of record: for every session of a gained partition that was in a
voice channel with a current item, the worker joins that channel again (the gateway carries
out the ``voice-join``) and plays the item from the position last recorded, paused if it was
paused, with its volume and filters. Each guild is restored in a task of its own under the
guild's lock, so its commands wait for it and other guilds do not. A guild whose handshake
fails is left as SQL has it (the next ``/play`` or ``/summon`` tries again).
"""

from __future__ import annotations

import asyncio

from backbeat.audio.context import Audio
from backbeat.audio.errors import CommandRefusedError
from backbeat.audio.guilds import GuildState
from backbeat.domain.queue import QueueSession
from backbeat.observability.logging import get_logger

_log = get_logger(__name__)


class Restorer:
    """Restores the guilds of partitions this worker gained."""

    def __init__(self, audio: Audio, partitions: int) -> None:
        self.audio = audio
        self.partitions = partitions
        self._tasks: set[asyncio.Task[None]] = set()

    async def gained(self, partitions: frozenset[int]) -> None:
        """Start restoring every guild of ``partitions`` that was playing (returns at once
        after reading the sessions, so the partitions' consumers can start)."""
        for partition in sorted(partitions):
            sessions = await self.audio.queue.sessions(
                partition=partition, partitions=self.partitions
            )
            for session in sessions:
                if session.voice_channel_id is None or not session.has_current:
                    continue
                state = self.audio.guilds.get(session.guild_id)
                task = asyncio.create_task(self._restore(state, session.voice_channel_id))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    async def _restore(self, state: GuildState, channel_id: int) -> None:
        audio = self.audio
        log = _log.bind(guild_id=state.guild_id, channel_id=channel_id)
        try:
            async with state.lock:
                view = await audio.read_view(state.guild_id)
                session: QueueSession | None = view.session
                if view.current is None or session is None or session.voice_channel_id is None:
                    return  # a command changed it meanwhile
                snapshot = audio.players.snapshot(state.guild_id)
                if (
                    snapshot is not None
                    and snapshot.connected
                    and snapshot.playing == view.current.track.encoded
                ):
                    state.playing = view.current  # the node kept it playing (a resumed session)
                    await audio.publish_ui(state, "update")
                    log.info("player_adopted")
                    return
                await audio.connect(state, session.voice_channel_id)
                await audio.start_entry(state, view.current, session, start_ms=session.position_ms)
                await audio.publish_ui(state, "update")
                log.info("player_restored", position_ms=session.position_ms)
        except CommandRefusedError as refused:
            log.warning("player_restore_failed", code=refused.code)
        except Exception:
            log.exception("player_restore_failed")

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
