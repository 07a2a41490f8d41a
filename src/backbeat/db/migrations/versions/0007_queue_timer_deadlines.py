"""Audio: the idle and alone timers' deadlines on the queue row, for a restore.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 10:30:00

A worker that takes a guild over arms its timers from these instead of starting them over.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = ("idle_leave_at", "alone_pause_at", "alone_leave_at")


def _timestamp() -> sa.types.TypeEngine[Any]:
    return sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    # Never rebuild ``queues`` on SQLite: dropping the parent table would cascade to its items.
    with op.batch_alter_table("queues", recreate="never") as batch:
        for name in _COLUMNS:
            batch.add_column(sa.Column(name, _timestamp(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("queues", recreate="never") as batch:
        for name in reversed(_COLUMNS):
            batch.drop_column(name)
