"""The guild's queue session and its items: the system of record for every player."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from backbeat.db.models.base import Base
from backbeat.db.types import LongText, UtcDateTime, utc_now
from backbeat.domain import limits


class Queue(Base):
    """One active session per guild: channels, player state and the cursor into its items.

    Mutating queue operations lock this row first (``SELECT … FOR UPDATE``), which
    serialises every change of one guild's queue across processes. The items are stored at
    positions ``first_position .. first_position + item_count - 1`` (the range may start
    below zero); ``cursor_position`` counts from ``first_position`` (0 = the first item).
    ``position_at`` is when ``position_ms`` was read (None: not playing since), so a restore
    can extrapolate the position of a track that kept playing.
    """

    __tablename__ = "queues"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    guild_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    first_position: Mapped[int] = mapped_column(Integer, default=0)
    cursor_position: Mapped[int] = mapped_column(Integer, default=0)
    item_count: Mapped[int] = mapped_column(Integer, default=0)
    voice_channel_id: Mapped[int | None] = mapped_column(BigInteger)
    text_channel_id: Mapped[int | None] = mapped_column(BigInteger)
    announce_channel_id: Mapped[int | None] = mapped_column(BigInteger)
    now_playing_message_id: Mapped[int | None] = mapped_column(BigInteger)
    #: The channel of ``now_playing_message_id``; both written by the gateway only.
    now_playing_channel_id: Mapped[int | None] = mapped_column(BigInteger)
    loop_mode: Mapped[str] = mapped_column(String(8), default="off")
    volume: Mapped[int] = mapped_column(Integer, default=100)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    position_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    position_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    filters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    node_name: Mapped[str | None] = mapped_column(String(limits.NODE_NAME))
    lavalink_session_id: Mapped[str | None] = mapped_column(String(limits.LAVALINK_SESSION_ID))
    #: Deadlines of the idle and alone timers (None: not running), for a restore.
    idle_leave_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    alone_pause_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    alone_leave_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)


class QueueItem(Base):
    """A track in a queue at a stored position (contiguous within the queue, starting at the
    queue's ``first_position``, which may be negative).

    There is deliberately no unique constraint on ``(queue_id, position)``: renumbering
    shifts many rows in one statement, which a per-row unique check would reject midway on
    PostgreSQL and MariaDB. Contiguity is kept by the queue-row lock instead.
    """

    __tablename__ = "queue_items"
    __table_args__ = (Index(None, "queue_id", "position"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    queue_id: Mapped[int] = mapped_column(ForeignKey("queues.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    encoded: Mapped[str] = mapped_column(LongText)
    identifier: Mapped[str] = mapped_column(String(limits.TRACK_IDENTIFIER))
    title: Mapped[str] = mapped_column(String(limits.TRACK_TITLE))
    author: Mapped[str] = mapped_column(String(limits.TRACK_AUTHOR), default="")
    length_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    is_stream: Mapped[bool] = mapped_column(Boolean, default=False)
    uri: Mapped[str | None] = mapped_column(String(limits.TRACK_URI))
    source_name: Mapped[str] = mapped_column(String(limits.TRACK_SOURCE_NAME), default="")
    artwork_url: Mapped[str | None] = mapped_column(String(limits.TRACK_ARTWORK_URL))
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    requester_id: Mapped[int | None] = mapped_column(BigInteger)
    is_autoplay: Mapped[bool] = mapped_column(Boolean, default=False)
    added_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
