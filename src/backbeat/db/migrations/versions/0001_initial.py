"""Initial schema: guild settings, rate limits, queues, history, audit, events, lyrics.

Revision ID: 0001
Revises:
Create Date: 2025-01-01 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamp() -> sa.types.TypeEngine[Any]:
    return sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    op.create_table(
        "server_configurations",
        sa.Column("guild_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("premium_tier", sa.String(16), nullable=False),
        sa.Column("autoplay_enabled", sa.Boolean(), nullable=False),
        sa.Column("autoplay_mode", sa.String(16), nullable=False),
        sa.Column("default_volume", sa.Integer(), nullable=False),
        sa.Column("dj_role_id", sa.BigInteger(), nullable=True),
        sa.Column("twenty_four_seven", sa.Boolean(), nullable=False),
        sa.Column("announce_channel_id", sa.BigInteger(), nullable=True),
        sa.Column("vote_skip_ratio", sa.Float(), nullable=False),
        sa.Column("max_queue_per_user", sa.Integer(), nullable=True),
        sa.Column("blacklist", sa.JSON(), nullable=False),
        sa.Column("created_at", _timestamp(), nullable=False),
        sa.Column("updated_at", _timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("guild_id", name=op.f("pk_server_configurations")),
    )
    op.create_table(
        "rate_limits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guild_key", sa.BigInteger(), nullable=False),
        sa.Column("bucket", sa.String(64), nullable=False),
        sa.Column("max_uses", sa.Integer(), nullable=False),
        sa.Column("window_seconds", sa.Integer(), nullable=False),
        sa.Column("updated_at", _timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rate_limits")),
        sa.UniqueConstraint("guild_key", "bucket", name=op.f("uq_rate_limits_guild_key_bucket")),
    )
    op.create_table(
        "queues",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("first_position", sa.Integer(), nullable=False),
        sa.Column("cursor_position", sa.Integer(), nullable=False),
        sa.Column("item_count", sa.Integer(), nullable=False),
        sa.Column("voice_channel_id", sa.BigInteger(), nullable=True),
        sa.Column("text_channel_id", sa.BigInteger(), nullable=True),
        sa.Column("announce_channel_id", sa.BigInteger(), nullable=True),
        sa.Column("now_playing_message_id", sa.BigInteger(), nullable=True),
        sa.Column("loop_mode", sa.String(8), nullable=False),
        sa.Column("volume", sa.Integer(), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("position_ms", sa.BigInteger(), nullable=False),
        sa.Column("filters", sa.JSON(), nullable=False),
        sa.Column("node_name", sa.String(64), nullable=True),
        sa.Column("lavalink_session_id", sa.String(64), nullable=True),
        sa.Column("created_at", _timestamp(), nullable=False),
        sa.Column("updated_at", _timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_queues")),
        sa.UniqueConstraint("guild_id", name=op.f("uq_queues_guild_id")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "queue_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("queue_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("encoded", sa.Text(), nullable=False),
        sa.Column("identifier", sa.String(255), nullable=False),
        sa.Column("title", sa.String(512), nullable=False),
        sa.Column("author", sa.String(255), nullable=False),
        sa.Column("length_ms", sa.BigInteger(), nullable=False),
        sa.Column("is_stream", sa.Boolean(), nullable=False),
        sa.Column("uri", sa.String(2048), nullable=True),
        sa.Column("source_name", sa.String(32), nullable=False),
        sa.Column("artwork_url", sa.String(2048), nullable=True),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.Column("requester_id", sa.BigInteger(), nullable=True),
        sa.Column("is_autoplay", sa.Boolean(), nullable=False),
        sa.Column("added_at", _timestamp(), nullable=False),
        sa.ForeignKeyConstraint(
            ["queue_id"],
            ["queues.id"],
            name=op.f("fk_queue_items_queue_id_queues"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_queue_items")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        op.f("ix_queue_items_queue_id_position"), "queue_items", ["queue_id", "position"]
    )
    op.create_table(
        "playback_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("identifier", sa.String(255), nullable=False),
        sa.Column("title", sa.String(512), nullable=False),
        sa.Column("author", sa.String(255), nullable=False),
        sa.Column("uri", sa.String(2048), nullable=True),
        sa.Column("source_name", sa.String(32), nullable=False),
        sa.Column("length_ms", sa.BigInteger(), nullable=False),
        sa.Column("requester_id", sa.BigInteger(), nullable=True),
        sa.Column("is_autoplay", sa.Boolean(), nullable=False),
        sa.Column("started_at", _timestamp(), nullable=False),
        sa.Column("ended_at", _timestamp(), nullable=True),
        sa.Column("skip_reason", sa.String(16), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_playback_history")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        op.f("ix_playback_history_guild_id_started_at"),
        "playback_history",
        ["guild_id", "started_at"],
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=True),
        sa.Column("actor_id", sa.BigInteger(), nullable=True),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("channel_id", sa.BigInteger(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", _timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        op.f("ix_audit_log_guild_id_created_at"), "audit_log", ["guild_id", "created_at"]
    )
    op.create_table(
        "event_store_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", _timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_store_events")),
        sa.UniqueConstraint("guild_id", "seq", name=op.f("uq_event_store_events_guild_id_seq")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "lyrics_cache",
        sa.Column("track_key", sa.String(255), nullable=False),
        sa.Column("lyrics", sa.Text(), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("fetched_at", _timestamp(), nullable=False),
        sa.Column("expires_at", _timestamp(), nullable=True),
        sa.PrimaryKeyConstraint("track_key", name=op.f("pk_lyrics_cache")),
    )


def downgrade() -> None:
    op.drop_table("lyrics_cache")
    op.drop_table("event_store_events")
    op.drop_index(op.f("ix_audit_log_guild_id_created_at"), table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_index(op.f("ix_playback_history_guild_id_started_at"), table_name="playback_history")
    op.drop_table("playback_history")
    op.drop_table("queue_items")
    op.drop_table("queues")
    op.drop_table("rate_limits")
    op.drop_table("server_configurations")
