"""Gateway: the now-playing message's channel beside its id on the queue row.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 09:10:00

The gateway alone writes ``now_playing_channel_id`` and ``now_playing_message_id``, so a
restarted gateway edits the message it posted instead of posting a second one.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Never rebuild ``queues`` on SQLite: dropping the parent table would cascade to its items.
    with op.batch_alter_table("queues", recreate="never") as batch:
        batch.add_column(sa.Column("now_playing_channel_id", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("queues", recreate="never") as batch:
        batch.drop_column("now_playing_channel_id")
