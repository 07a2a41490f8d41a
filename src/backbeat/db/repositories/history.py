"""Playback history: a row when a track starts, closed with a skip reason when it stops."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from backbeat.db.models import PlaybackHistory
from backbeat.db.repositories.tracks import check_track
from backbeat.db.transactions import transact
from backbeat.db.types import utc_now
from backbeat.domain.queue import QueueTrack
from backbeat.domain.records import PlayRecord, SkipReason

_TABLE = PlaybackHistory.__table__


def _record(row: Row[Any]) -> PlayRecord:
    return PlayRecord(
        record_id=row.id,
        guild_id=row.guild_id,
        identifier=row.identifier,
        title=row.title,
        author=row.author,
        uri=row.uri,
        source_name=row.source_name,
        length_ms=row.length_ms,
        requester_id=row.requester_id,
        is_autoplay=bool(row.is_autoplay),
        started_at=row.started_at,
        ended_at=row.ended_at,
        skip_reason=None if row.skip_reason is None else SkipReason(row.skip_reason),
    )


class HistoryRepository:
    """The ``playback_history`` table."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def start(
        self,
        *,
        guild_id: int,
        track: QueueTrack,
        requester_id: int | None = None,
        is_autoplay: bool = False,
        started_at: datetime | None = None,
        conn: AsyncConnection | None = None,
    ) -> PlayRecord:
        """Record that a track started playing."""
        check_track(track)
        values = {
            "guild_id": guild_id,
            "identifier": track.identifier,
            "title": track.title,
            "author": track.author,
            "uri": track.uri,
            "source_name": track.source_name,
            "length_ms": track.length_ms,
            "requester_id": requester_id,
            "is_autoplay": is_autoplay,
            "started_at": started_at or utc_now(),
        }

        async def work(conn: AsyncConnection) -> PlayRecord:
            result = await conn.execute(insert(PlaybackHistory).values(values))
            record_id = int(result.inserted_primary_key[0])  # type: ignore[index]
            row = (await conn.execute(select(_TABLE).where(PlaybackHistory.id == record_id))).one()
            return _record(row)

        return await transact(self._engine, "history.start", work, conn=conn)

    async def end(
        self,
        *,
        record_id: int,
        skip_reason: SkipReason,
        ended_at: datetime | None = None,
        conn: AsyncConnection | None = None,
    ) -> PlayRecord | None:
        """Close a playback with why it stopped; None if there is no such open record."""

        async def work(conn: AsyncConnection) -> PlayRecord | None:
            await conn.execute(
                update(PlaybackHistory)
                .where(PlaybackHistory.id == record_id, PlaybackHistory.ended_at.is_(None))
                .values(ended_at=ended_at or utc_now(), skip_reason=skip_reason.value)
            )
            row = (
                await conn.execute(select(_TABLE).where(PlaybackHistory.id == record_id))
            ).one_or_none()
            return None if row is None or row.skip_reason != skip_reason.value else _record(row)

        return await transact(self._engine, "history.end", work, conn=conn)

    async def recent(
        self,
        *,
        guild_id: int,
        limit: int = 20,
        before_id: int | None = None,
        conn: AsyncConnection | None = None,
    ) -> list[PlayRecord]:
        """The guild's latest playbacks, newest first (``before_id`` pages further back)."""

        async def work(conn: AsyncConnection) -> list[PlayRecord]:
            statement = select(_TABLE).where(PlaybackHistory.guild_id == guild_id)
            if before_id is not None:
                statement = statement.where(PlaybackHistory.id < before_id)
            statement = statement.order_by(
                PlaybackHistory.started_at.desc(), PlaybackHistory.id.desc()
            ).limit(limit)
            return [_record(row) for row in await conn.execute(statement)]

        return await transact(self._engine, "history.recent", work, read_only=True, conn=conn)

    async def last(
        self, *, guild_id: int, conn: AsyncConnection | None = None
    ) -> PlayRecord | None:
        """The guild's latest playback (what autoplay starts from)."""
        records = await self.recent(guild_id=guild_id, limit=1, conn=conn)
        return records[0] if records else None
