"""The playing position recorded from the nodes' ``playerUpdate``s, for a restore.

Lavalink reports each player's position every few seconds. The readings are kept in memory
(:meth:`PositionRecorder.seen`, no I/O, O(1) per ``playerUpdate``) and written to the session
in batches: every :data:`POSITION_RECORD_INTERVAL_S` one task writes every reading that is due,
:data:`BATCH_ROWS` guilds per transaction in one ``UPDATE`` (executemany), each with Lavalink's
time of the reading (``position_at``), so a worker that takes the guild over extrapolates from
it instead of from the last command.

A reading is *due* only when it tells a restore something new: the first of a track (or of
this process), one that does not follow from the last one written (a stall, a seek the node
made itself, a timescale filter: more than :data:`DRIFT_TOLERANCE_MS` off the extrapolation),
or one :data:`REFRESH_MS` after the last one written. A track playing steadily therefore costs
one write per track, not one per ``playerUpdate``; a reading that stands still where the last
written one stood (paused: the pause command recorded it) costs none.

In SQL a reading is skipped when the guild's current item changed meanwhile or a newer one
(a seek, a pause) is stored. A failed batch is kept and tried again at the next interval (a
newer reading of the same guild replaces it).
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, bindparam, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from backbeat.audio.context import Audio
from backbeat.audio.ports import PlayerPosition
from backbeat.db.models import Queue, QueueItem
from backbeat.db.transactions import in_transaction
from backbeat.db.types import utc_now
from backbeat.observability.logging import get_logger

_log = get_logger(__name__)

#: How often the due readings are written (one batch of transactions each time).
POSITION_RECORD_INTERVAL_S = 5.0
#: How far (ms) a reading may be off the extrapolation of the last one written and still
#: be skipped (playback at normal speed keeps it near 0).
DRIFT_TOLERANCE_MS = 1_000
#: A reading this long (ms, Lavalink's clock) after the last one written is written anyway.
REFRESH_MS = 300_000
#: Guilds per transaction (one UPDATE executed for many rows).
BATCH_ROWS = 500


@dataclass(frozen=True, slots=True)
class Reading:
    """One guild's reported position, for the item it was playing."""

    item_id: int
    position_ms: int
    time_ms: int

    def follows(self, written: Reading) -> bool:
        """Whether this reading adds nothing to ``written`` (the same item, and either standing
        where it stood or where extrapolating it at normal speed puts it)."""
        if written.item_id != self.item_id:
            return False
        if self.position_ms == written.position_ms:
            return True
        elapsed = self.time_ms - written.time_ms
        if elapsed >= REFRESH_MS:
            return False
        return abs(self.position_ms - (written.position_ms + elapsed)) <= DRIFT_TOLERANCE_MS


def _statement() -> Any:
    """``UPDATE queues`` for one guild's reading, when its item is still the current one and
    no newer reading is stored (executed with many parameter sets at once)."""
    current = exists(
        select(QueueItem.id).where(
            QueueItem.queue_id == Queue.id,
            QueueItem.id == bindparam("item_id"),
            QueueItem.position == Queue.first_position + Queue.cursor_position,
        )
    )
    return (
        update(Queue)
        .where(
            and_(
                Queue.guild_id == bindparam("g"),
                or_(Queue.position_at.is_(None), Queue.position_at < bindparam("read_at")),
                current,
            )
        )
        .values(
            position_ms=bindparam("position"),
            position_at=bindparam("read_at"),
            updated_at=bindparam("now"),
        )
        .execution_options(synchronize_session=False)
    )


class PositionRecorder:
    """Keeps the reported positions of this worker's playing guilds; writes the due ones in
    batches every ``interval_s``."""

    def __init__(self, audio: Audio, interval_s: float = POSITION_RECORD_INTERVAL_S) -> None:
        self.audio = audio
        self.interval_s = interval_s
        #: The last reading written (or skipped in SQL as stale) per guild.
        self._written: dict[int, Reading] = {}
        #: Readings waiting for the next batch (the newest per guild).
        self._due: dict[int, Reading] = {}
        self._flusher: asyncio.Task[None] | None = None
        self._statement = _statement()
        #: Rows handed to SQL so far (a test and a benchmark may watch it).
        self.written_rows = 0
        self.batches = 0

    @property
    def due(self) -> int:
        return len(self._due)

    def seen(self, event: PlayerPosition) -> None:
        """Called (without I/O) for every ``PlayerPosition``; keeps it when it is due."""
        state = self.audio.guilds.known(event.guild_id)
        if state is None or state.playing is None or not event.time_ms:
            return
        reading = Reading(state.playing.item_id, max(0, event.position_ms), event.time_ms)
        written = self._written.get(event.guild_id)
        if written is not None and reading.follows(written):
            self._due.pop(event.guild_id, None)  # an older due one said no more than this
            return
        self._due[event.guild_id] = reading
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            await self.flush()

    async def flush(self) -> None:
        """Write every due reading now (batches of :data:`BATCH_ROWS`, by guild id, so two
        batches never lock rows in opposite orders)."""
        due, self._due = self._due, {}
        guilds = sorted(due)
        for start in range(0, len(guilds), BATCH_ROWS):
            chunk = {guild: due[guild] for guild in guilds[start : start + BATCH_ROWS]}
            try:
                await self._write(chunk)
            except Exception:
                _log.warning("position_record_failed", guilds=len(chunk), exc_info=True)
                for guild, reading in chunk.items():  # again next time, unless a newer came
                    self._due.setdefault(guild, reading)
                continue
            self._written.update(chunk)

    async def _write(self, readings: dict[int, Reading]) -> None:
        now = utc_now()
        rows = [
            {
                "g": guild,
                "item_id": reading.item_id,
                "position": reading.position_ms,
                "read_at": datetime.fromtimestamp(reading.time_ms / 1000, UTC),
                "now": now,
            }
            for guild, reading in readings.items()
        ]

        async def work(conn: AsyncConnection) -> None:
            await conn.execute(self._statement, rows)

        await in_transaction(self.audio.engine, "audio.positions", work)
        self.written_rows += len(rows)
        self.batches += 1

    def forget(self, guild_id: int) -> None:
        self._written.pop(guild_id, None)
        self._due.pop(guild_id, None)

    async def close(self) -> None:
        """Stop the batches, writing the due readings once more (best effort)."""
        flusher, self._flusher = self._flusher, None
        if flusher is not None:
            flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await flusher
        if self._due:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.flush(), timeout=5.0)
