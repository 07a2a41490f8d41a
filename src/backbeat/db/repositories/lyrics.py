"""The lyrics cache: lyrics fetched once per track key, optionally expiring."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from backbeat.db.models import LyricsCache
from backbeat.db.transactions import in_transaction
from backbeat.db.types import utc_now
from backbeat.domain.records import CachedLyrics

_TABLE = LyricsCache.__table__


class LyricsRepository:
    """The ``lyrics_cache`` table."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def get(self, *, track_key: str, now: datetime | None = None) -> CachedLyrics | None:
        """Cached lyrics for the key, None if absent or expired."""
        moment = now or utc_now()

        async def work(conn: AsyncConnection) -> CachedLyrics | None:
            row = (
                await conn.execute(select(_TABLE).where(LyricsCache.track_key == track_key))
            ).one_or_none()
            if row is None or (row.expires_at is not None and row.expires_at <= moment):
                return None
            return CachedLyrics(
                track_key=row.track_key,
                lyrics=row.lyrics,
                source=row.source,
                fetched_at=row.fetched_at,
                expires_at=row.expires_at,
            )

        return await in_transaction(self._engine, "lyrics.get", work, read_only=True)

    async def put(
        self, *, track_key: str, lyrics: str, source: str, ttl: timedelta | None = None
    ) -> CachedLyrics:
        """Store (or replace) the lyrics of a key."""
        if not track_key or len(track_key) > 255:
            raise ValueError("track_key must be 1..255 characters")
        fetched_at = utc_now()
        cached = CachedLyrics(
            track_key=track_key,
            lyrics=lyrics,
            source=source,
            fetched_at=fetched_at,
            expires_at=None if ttl is None else fetched_at + ttl,
        )
        values = {
            "lyrics": lyrics,
            "source": source,
            "fetched_at": fetched_at,
            "expires_at": cached.expires_at,
        }

        async def work(conn: AsyncConnection) -> CachedLyrics:
            result = await conn.execute(
                update(LyricsCache).where(LyricsCache.track_key == track_key).values(values)
            )
            if result.rowcount == 0:
                await conn.execute(insert(LyricsCache).values(track_key=track_key, **values))
            return cached

        return await in_transaction(self._engine, "lyrics.put", work, retry_integrity=True)

    async def purge_expired(self, *, now: datetime | None = None) -> int:
        """Delete expired entries; returns how many."""
        moment = now or utc_now()

        async def work(conn: AsyncConnection) -> int:
            result = await conn.execute(
                delete(LyricsCache).where(
                    LyricsCache.expires_at.is_not(None), LyricsCache.expires_at <= moment
                )
            )
            return int(result.rowcount)

        return await in_transaction(self._engine, "lyrics.purge", work)
