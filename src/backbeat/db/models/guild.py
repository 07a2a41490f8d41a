"""Per-guild settings and rate-limit policies."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Float, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backbeat.db.models.base import Base
from backbeat.db.types import UtcDateTime, utc_now
from backbeat.domain import limits


class ServerConfiguration(Base):
    """A guild's settings; absent rows mean the defaults of ``GuildSettings``."""

    __tablename__ = "server_configurations"

    guild_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    premium_tier: Mapped[str] = mapped_column(String(16), default="free")
    autoplay_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    autoplay_mode: Mapped[str] = mapped_column(String(16), default="similar")
    default_volume: Mapped[int] = mapped_column(Integer, default=100)
    dj_role_id: Mapped[int | None] = mapped_column(BigInteger)
    twenty_four_seven: Mapped[bool] = mapped_column(Boolean, default=False)
    announce_channel_id: Mapped[int | None] = mapped_column(BigInteger)
    vote_skip_ratio: Mapped[float] = mapped_column(Float, default=0.5)
    max_queue_per_user: Mapped[int | None] = mapped_column(Integer)
    blacklist: Mapped[list[Any]] = mapped_column(JSON, default=list)
    #: Which tracks the blacklist keeps out (``BlacklistScope``: ``autoplay`` or ``all``).
    blacklist_scope: Mapped[str] = mapped_column(
        String(16), default="autoplay", server_default="autoplay"
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)


class RateLimit(Base):
    """A rate-limit policy: ``max_uses`` uses of ``bucket`` per window, default or per guild.

    ``guild_key`` is the guild id, or 0 for the default policy of every guild (a real
    column rather than NULL so that the unique constraint holds on every backend).
    """

    __tablename__ = "rate_limits"
    __table_args__ = (UniqueConstraint("guild_key", "bucket"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    guild_key: Mapped[int] = mapped_column(BigInteger, default=0)
    bucket: Mapped[str] = mapped_column(String(limits.RATE_LIMIT_BUCKET))
    max_uses: Mapped[int] = mapped_column(Integer)
    window_seconds: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
