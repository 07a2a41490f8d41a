"""Audio: default rate-limit policies of live searches, per user and per guild.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 09:40:00

Bucket names and values are written out here (not imported): a migration describes the data
of its day. ``music.search``: 30 live searches a minute per user in a guild;
``music.search.guild``: 120 a minute per guild (counted under user 0). Cache hits are free.
Operators change them in the ``rate_limits`` table (``guild_key`` 0 is the default).
Downgrade removes the two defaults only if they still have these values.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DEFAULTS = (("music.search", 30, 60), ("music.search.guild", 120, 60))

_rate_limits = sa.table(
    "rate_limits",
    sa.column("guild_key", sa.BigInteger()),
    sa.column("bucket", sa.String()),
    sa.column("max_uses", sa.Integer()),
    sa.column("window_seconds", sa.Integer()),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    connection = op.get_bind()
    now = datetime.now(UTC)
    if connection.dialect.name != "postgresql":
        now = now.replace(tzinfo=None)  # stored as naive UTC, as UtcDateTime does
    for bucket, max_uses, window in _DEFAULTS:
        exists = connection.execute(
            sa.select(sa.func.count())
            .select_from(_rate_limits)
            .where(_rate_limits.c.guild_key == 0, _rate_limits.c.bucket == bucket)
        ).scalar_one()
        if not exists:
            op.bulk_insert(
                _rate_limits,
                [
                    {
                        "guild_key": 0,
                        "bucket": bucket,
                        "max_uses": max_uses,
                        "window_seconds": window,
                        "updated_at": now,
                    }
                ],
            )


def downgrade() -> None:
    for bucket, max_uses, window in _DEFAULTS:
        op.execute(
            _rate_limits.delete().where(
                _rate_limits.c.guild_key == 0,
                _rate_limits.c.bucket == bucket,
                _rate_limits.c.max_uses == max_uses,
                _rate_limits.c.window_seconds == window,
            )
        )
