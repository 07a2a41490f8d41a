"""Lavalink session ids per (audio worker, node): a restarted worker resumes its own session."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from backbeat.db.models.base import Base
from backbeat.db.types import UtcDateTime, utc_now

#: Longest worker id (``BACKBEAT_AUDIO_WORKER_ID``'s pattern allows 64) and node name.
WORKER_ID = 64
NODE_NAME = 64
#: Lavalink's session ids are 16 characters; room for other servers' longer ones.
SESSION_ID = 64


class LavalinkSession(Base):
    """The last Lavalink session id one audio worker had on one node."""

    __tablename__ = "lavalink_sessions"

    worker_id: Mapped[str] = mapped_column(String(WORKER_ID), primary_key=True)
    node_name: Mapped[str] = mapped_column(String(NODE_NAME), primary_key=True)
    session_id: Mapped[str] = mapped_column(String(SESSION_ID))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
