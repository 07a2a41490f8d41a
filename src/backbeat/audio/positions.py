"""The playing position recorded from the nodes' ``playerUpdate``s, for a restore.

Lavalink reports each player's position every few seconds. Every
:data:`POSITION_RECORD_INTERVAL_S` per guild the reported position is written to the
session with Lavalink's time of the reading (``position_at``), so a worker that takes the
guild over extrapolates from a reading at most that old instead of from the last command.
A reading older than the one stored (a seek or a pause wrote a newer one) is skipped.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from backbeat.audio.context import Audio
from backbeat.audio.ports import PlayerPosition
from backbeat.db.transactions import in_transaction
from backbeat.observability.logging import get_logger

_log = get_logger(__name__)

#: How often (per guild) a reported position is written to SQL.
POSITION_RECORD_INTERVAL_S = 5.0
#: Writes at once (each its own short transaction) and readings waiting at most: beyond that
#: a reading is skipped (the guild's next one is taken), so many players never flood the pool.
CONCURRENT_WRITES = 4
MAX_WAITING = 256


class PositionRecorder:
    """Writes the reported positions of this worker's playing guilds, throttled per guild."""

    def __init__(self, audio: Audio, interval_s: float = POSITION_RECORD_INTERVAL_S) -> None:
        self.audio = audio
        self.interval_s = interval_s
        self._last: dict[int, float] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(CONCURRENT_WRITES)

    def seen(self, event: PlayerPosition) -> None:
        """Called (without I/O) for every ``PlayerPosition``; spawns the write when due."""
        state = self.audio.guilds.known(event.guild_id)
        if state is None or state.playing is None or not event.time_ms:
            return
        now = time.monotonic()
        if now - self._last.get(event.guild_id, float("-inf")) < self.interval_s:
            return
        if len(self._tasks) >= MAX_WAITING:
            return  # behind: this guild's next reading is taken instead
        self._last[event.guild_id] = now
        task = asyncio.create_task(self._record(event, state.playing.item_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _record(self, event: PlayerPosition, item_id: int) -> None:
        audio = self.audio
        guild_id = event.guild_id
        read_at = datetime.fromtimestamp(event.time_ms / 1000, UTC)

        async def work(conn: AsyncConnection) -> None:
            session = await audio.queue.session(guild_id=guild_id, conn=conn)
            current = await audio.queue.current(guild_id=guild_id, conn=conn)
            if session is None or current is None or current.item_id != item_id:
                return  # the track changed meanwhile
            if session.position_at is not None and session.position_at >= read_at:
                return  # a newer reading (seek, pause) is stored
            await audio.queue.set_session(
                guild_id=guild_id,
                position_ms=max(0, event.position_ms),
                position_at=read_at,
                conn=conn,
            )

        try:
            async with self._slots:
                await in_transaction(audio.engine, "audio.position", work)
        except Exception:
            _log.warning("position_record_failed", guild_id=guild_id, exc_info=True)

    def forget(self, guild_id: int) -> None:
        self._last.pop(guild_id, None)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
