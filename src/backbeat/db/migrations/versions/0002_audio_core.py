"""Audio core: applied message ids, partition fencing tokens, the position's time, and track
columns as long as the messages allow (``backbeat.domain.limits``).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 09:00:00

Lengths are written out here (not imported): a migration describes the schema of its day.
Widening ``VARCHAR`` is in place on PostgreSQL and MariaDB; SQLite does not enforce lengths
but records them, so its tables are rebuilt (batch mode) keeping ``AUTOINCREMENT`` and the
highest id ever given. The downgrade cuts values longer than the old columns first.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: (table, column, length before, length after, nullable) of every widened string column.
_WIDENED: tuple[tuple[str, str, int, int, bool], ...] = (
    ("queue_items", "identifier", 255, 512, False),
    ("queue_items", "author", 255, 512, False),
    ("queue_items", "source_name", 32, 64, False),
    ("playback_history", "identifier", 255, 512, False),
    ("playback_history", "author", 255, 512, False),
    ("playback_history", "source_name", 32, 64, False),
    ("lyrics_cache", "source", 64, 100, False),
)
_AUTOINCREMENT_TABLES: frozenset[str] = frozenset({"queue_items", "playback_history"})


def _timestamp() -> sa.types.TypeEngine[Any]:
    return sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def _dialect() -> str:
    return op.get_bind().dialect.name


def _sqlite_sequence(table: str) -> int | None:
    bind = op.get_bind()
    return bind.execute(
        sa.text("SELECT seq FROM sqlite_sequence WHERE name = :name"), {"name": table}
    ).scalar()


def _restore_sqlite_sequence(table: str, seq: int | None) -> None:
    """Keep ids never reused after a SQLite table rebuild (the copy only knows max(id))."""
    if seq is None:
        return
    bind = op.get_bind()
    updated = bind.execute(
        sa.text("UPDATE sqlite_sequence SET seq = :seq WHERE name = :name AND seq < :seq"),
        {"name": table, "seq": seq},
    ).rowcount
    exists = bind.execute(
        sa.text("SELECT 1 FROM sqlite_sequence WHERE name = :name"), {"name": table}
    ).scalar()
    if not updated and not exists:
        bind.execute(
            sa.text("INSERT INTO sqlite_sequence (name, seq) VALUES (:name, :seq)"),
            {"name": table, "seq": seq},
        )


def _resize(*, up: bool) -> None:
    sqlite = _dialect() == "sqlite"
    for table in dict.fromkeys(entry[0] for entry in _WIDENED):
        seq = _sqlite_sequence(table) if sqlite and table in _AUTOINCREMENT_TABLES else None
        kwargs: dict[str, Any] = (
            {"table_kwargs": {"sqlite_autoincrement": True}}
            if table in _AUTOINCREMENT_TABLES
            else {}
        )
        with op.batch_alter_table(table, **kwargs) as batch:
            for name, column, before, after, nullable in _WIDENED:
                if name != table:
                    continue
                old, new = (before, after) if up else (after, before)
                batch.alter_column(
                    column,
                    type_=sa.String(new),
                    existing_type=sa.String(old),
                    existing_nullable=nullable,
                )
        _restore_sqlite_sequence(table, seq)


def _cut_long_values() -> None:
    """Shorten values that would not fit the old columns (the downgrade loses their tail)."""
    length = sa.func.length if _dialect() == "sqlite" else sa.func.char_length
    for table, column, before, _after, _nullable in _WIDENED:
        col = sa.column(column, sa.String())
        op.execute(
            sa.table(table, col)
            .update()
            .where(length(col) > before)
            .values({column: sa.func.substr(col, 1, before)})
        )


def upgrade() -> None:
    op.create_table(
        "applied_messages",
        sa.Column("message_id", sa.String(32), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("command_type", sa.String(64), nullable=False),
        sa.Column("applied_at", _timestamp(), nullable=False),
        sa.Column("reply", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_applied_messages")),
    )
    op.create_index(op.f("ix_applied_messages_guild_id"), "applied_messages", ["guild_id"])
    op.create_index(op.f("ix_applied_messages_applied_at"), "applied_messages", ["applied_at"])
    op.create_table(
        "partition_fences",
        sa.Column("pool", sa.String(64), nullable=False),
        sa.Column("partition", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("token", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", _timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("pool", "partition", name=op.f("pk_partition_fences")),
    )
    # Never rebuild ``queues`` on SQLite: dropping the parent table would cascade to its items.
    with op.batch_alter_table("queues", recreate="never") as batch:
        batch.add_column(sa.Column("position_at", _timestamp(), nullable=True))
    _resize(up=True)
    if _dialect() in {"mysql", "mariadb"}:
        op.alter_column(
            "queue_items",
            "encoded",
            type_=mysql.MEDIUMTEXT(),
            existing_type=sa.Text(),
            existing_nullable=False,
        )


def downgrade() -> None:
    if _dialect() in {"mysql", "mariadb"}:
        op.alter_column(
            "queue_items",
            "encoded",
            type_=sa.Text(),
            existing_type=mysql.MEDIUMTEXT(),
            existing_nullable=False,
        )
    _cut_long_values()
    _resize(up=False)
    with op.batch_alter_table("queues", recreate="never") as batch:
        batch.drop_column("position_at")
    op.drop_table("partition_fences")
    op.drop_index(op.f("ix_applied_messages_applied_at"), table_name="applied_messages")
    op.drop_index(op.f("ix_applied_messages_guild_id"), table_name="applied_messages")
    op.drop_table("applied_messages")
