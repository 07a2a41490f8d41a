"""Guild settings: ``blacklist_scope``, whether ``/play`` honours the blacklist too.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 12:10:00

``autoplay`` (the default, and what every existing guild gets): only autoplay's picks are
filtered; ``all``: ``/play``, ``/playnext`` and ``/playnow`` refuse blacklisted tracks too.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("server_configurations", recreate="never") as batch:
        batch.add_column(
            sa.Column("blacklist_scope", sa.String(16), nullable=False, server_default="autoplay")
        )


def downgrade() -> None:
    with op.batch_alter_table("server_configurations", recreate="never") as batch:
        batch.drop_column("blacklist_scope")
