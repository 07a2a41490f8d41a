"""Append-mostly records: playback history, audit log, domain events and the lyrics cache."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backbeat.db.models.base import Base
from backbeat.db.types import UtcDateTime, utc_now
from backbeat.domain import limits


class PlaybackHistory(Base):
    """One playback of a track; ``ended_at``/``skip_reason`` are set when it stops."""

    __tablename__ = "playback_history"
    __table_args__ = (Index(None, "guild_id", "started_at"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    guild_id: Mapped[int] = mapped_column(BigInteger)
    identifier: Mapped[str] = mapped_column(String(limits.TRACK_IDENTIFIER))
    title: Mapped[str] = mapped_column(String(limits.TRACK_TITLE))
    author: Mapped[str] = mapped_column(String(limits.TRACK_AUTHOR), default="")
    uri: Mapped[str | None] = mapped_column(String(limits.TRACK_URI))
    source_name: Mapped[str] = mapped_column(String(limits.TRACK_SOURCE_NAME), default="")
    length_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    requester_id: Mapped[int | None] = mapped_column(BigInteger)
    is_autoplay: Mapped[bool] = mapped_column(Boolean, default=False)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    skip_reason: Mapped[str | None] = mapped_column(String(16))


class AuditLog(Base):
    """Every command and settings change: who, what, where, from Discord or the panel."""

    __tablename__ = "audit_log"
    __table_args__ = (Index(None, "guild_id", "created_at"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    guild_id: Mapped[int | None] = mapped_column(BigInteger)
    actor_id: Mapped[int | None] = mapped_column(BigInteger)
    action: Mapped[str] = mapped_column(String(limits.AUDIT_ACTION))
    source: Mapped[str] = mapped_column(String(16))
    channel_id: Mapped[int | None] = mapped_column(BigInteger)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)


class EventStoreEvent(Base):
    """An append-only domain event; ``seq`` counts 1, 2, 3… within each guild."""

    __tablename__ = "event_store_events"
    __table_args__ = (UniqueConstraint("guild_id", "seq"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    guild_id: Mapped[int] = mapped_column(BigInteger)
    seq: Mapped[int] = mapped_column(BigInteger)
    type: Mapped[str] = mapped_column(String(limits.EVENT_TYPE))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)


class LyricsCache(Base):
    """Lyrics fetched for a track key (normalised ``artist - title`` or an ISRC)."""

    __tablename__ = "lyrics_cache"

    track_key: Mapped[str] = mapped_column(String(limits.LYRICS_TRACK_KEY), primary_key=True)
    lyrics: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(limits.LYRICS_SOURCE))
    fetched_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
