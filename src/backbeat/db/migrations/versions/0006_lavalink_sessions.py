"""Audio: Lavalink session ids per (audio worker, node), for resuming after a restart.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 10:00:00

Lengths are written out here (not imported): a migration describes the schema of its day.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamp() -> sa.types.TypeEngine[Any]:
    return sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    op.create_table(
        "lavalink_sessions",
        sa.Column("worker_id", sa.String(64), nullable=False),
        sa.Column("node_name", sa.String(64), nullable=False),
        sa.Column("session_id", sa.String(64), nullable=False),
        sa.Column("updated_at", _timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("worker_id", "node_name", name="pk_lavalink_sessions"),
    )


def downgrade() -> None:
    op.drop_table("lavalink_sessions")
