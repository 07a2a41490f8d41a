"""Control panel: users, sessions, logins under way, the per-session guild cache.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 09:30:00

Lengths are written out here (not imported): a migration describes the schema of its day.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamp() -> sa.types.TypeEngine[Any]:
    return sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    op.create_table(
        "panel_users",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("global_name", sa.String(64), nullable=True),
        sa.Column("avatar", sa.String(64), nullable=True),
        sa.Column("created_at", _timestamp(), nullable=False),
        sa.Column("last_login_at", _timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_panel_users"),
    )
    op.create_table(
        "panel_sessions",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("access_token", sa.String(512), nullable=False),
        sa.Column("refresh_token", sa.String(512), nullable=True),
        sa.Column("token_expires_at", _timestamp(), nullable=False),
        sa.Column("created_at", _timestamp(), nullable=False),
        sa.Column("expires_at", _timestamp(), nullable=False),
        sa.Column("guilds_fetched_at", _timestamp(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["panel_users.id"],
            name="fk_panel_sessions_user_id_panel_users",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_panel_sessions"),
    )
    op.create_index("ix_panel_sessions_user_id", "panel_sessions", ["user_id"])
    op.create_index("ix_panel_sessions_expires_at", "panel_sessions", ["expires_at"])
    op.create_table(
        "panel_logins",
        sa.Column("state_digest", sa.String(64), nullable=False),
        sa.Column("browser_digest", sa.String(64), nullable=False),
        sa.Column("code_verifier", sa.String(128), nullable=False),
        sa.Column("next_path", sa.String(512), nullable=False),
        sa.Column("created_at", _timestamp(), nullable=False),
        sa.Column("expires_at", _timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("state_digest", name="pk_panel_logins"),
    )
    op.create_index("ix_panel_logins_expires_at", "panel_logins", ["expires_at"])
    op.create_table(
        "panel_guild_memberships",
        sa.Column("session_id", sa.String(64), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("icon", sa.String(64), nullable=True),
        sa.Column("owner", sa.Boolean(), nullable=False),
        sa.Column("permissions", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["panel_sessions.id"],
            name="fk_panel_guild_memberships_session_id_panel_sessions",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("session_id", "guild_id", name="pk_panel_guild_memberships"),
    )


def downgrade() -> None:
    op.drop_table("panel_guild_memberships")
    op.drop_table("panel_logins")
    op.drop_table("panel_sessions")
    op.drop_table("panel_users")
