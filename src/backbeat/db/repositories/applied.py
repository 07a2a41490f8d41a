"""Applied bus messages: the ids whose effect is committed, with the reply each produced.

A command handler records its message id in the same transaction as the command's effect
(``record(conn, ...)``), before the message is acknowledged. A redelivery then finds
the id (``find``) and answers with the stored reply instead of applying the command again.
Recording an id twice raises :class:`~backbeat.errors.MessageAlreadyAppliedError` (a
concurrent delivery committed first): let it roll the transaction back, then ``find`` the
stored reply in a new one. ``purge`` drops ids older than the retention time in small
batches, each its own short transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Final

from sqlalchemy import Row, delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from backbeat.db.models import AppliedMessage as AppliedMessageRow
from backbeat.db.transactions import in_transaction, transact
from backbeat.db.types import one_of, utc_now
from backbeat.domain import limits
from backbeat.domain.records import AppliedMessage
from backbeat.errors import MessageAlreadyAppliedError

PURGE_BATCH: Final = 1000
_TABLE = AppliedMessageRow.__table__


def _applied(row: Row[Any]) -> AppliedMessage:
    return AppliedMessage(
        message_id=row.message_id,
        guild_id=row.guild_id,
        command_type=row.command_type,
        applied_at=row.applied_at,
        reply=row.reply,
    )


class AppliedMessagesRepository:
    """The ``applied_messages`` table."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def find(self, conn: AsyncConnection | None, message_id: str) -> AppliedMessage | None:
        """The applied record of ``message_id``, None if it was never applied (or purged).

        On ``conn`` (the command's transaction), or in a transaction of its own with None.
        """

        async def work(conn: AsyncConnection) -> AppliedMessage | None:
            row = (
                await conn.execute(select(_TABLE).where(AppliedMessageRow.message_id == message_id))
            ).one_or_none()
            return None if row is None else _applied(row)

        return await transact(self._engine, "applied.find", work, read_only=True, conn=conn)

    async def record(
        self,
        conn: AsyncConnection | None,
        *,
        message_id: str,
        guild_id: int,
        command_type: str,
        reply: Mapping[str, Any] | None,
        applied_at: datetime | None = None,
    ) -> AppliedMessage:
        """Record ``message_id`` as applied with the reply it produced and return the record
        (on ``conn``, the transaction of the effect; None: a transaction of its own).

        Raises :class:`MessageAlreadyAppliedError` when the id is recorded already (on
        PostgreSQL and MariaDB after waiting for a concurrent uncommitted record to commit).
        """
        if len(message_id) != limits.MESSAGE_ID:
            raise ValueError(f"message_id must be {limits.MESSAGE_ID} characters")
        if not command_type or len(command_type) > limits.MESSAGE_TYPE:
            raise ValueError(f"command_type must be 1..{limits.MESSAGE_TYPE} characters")
        applied = AppliedMessage(
            message_id=message_id,
            guild_id=guild_id,
            command_type=command_type,
            applied_at=applied_at or utc_now(),
            reply=None if reply is None else dict(reply),
        )

        async def work(conn: AsyncConnection) -> AppliedMessage:
            try:
                await conn.execute(
                    insert(AppliedMessageRow).values(
                        message_id=applied.message_id,
                        guild_id=applied.guild_id,
                        command_type=applied.command_type,
                        applied_at=applied.applied_at,
                        reply=applied.reply,
                    )
                )
            except IntegrityError as error:
                raise MessageAlreadyAppliedError(message_id) from error
            return applied

        return await transact(self._engine, "applied.record", work, conn=conn)

    async def find_many(
        self, conn: AsyncConnection, message_ids: Sequence[str]
    ) -> dict[str, AppliedMessage]:
        """The applied records among ``message_ids`` (one query, on the caller's ``conn``)."""
        if not message_ids:
            return {}
        wanted = one_of(AppliedMessageRow.message_id, set(message_ids), conn.dialect.name)
        rows = await conn.execute(select(_TABLE).where(wanted))
        return {row.message_id: _applied(row) for row in rows}

    async def record_many(self, conn: AsyncConnection, applied: Sequence[AppliedMessage]) -> None:
        """Record several applied ids in one statement on the caller's ``conn`` (the batch's
        transaction). Raises :class:`MessageAlreadyAppliedError` when one is recorded
        already (the whole statement fails: roll the transaction back)."""
        if not applied:
            return
        for record in applied:
            if len(record.message_id) != limits.MESSAGE_ID:
                raise ValueError(f"message_id must be {limits.MESSAGE_ID} characters")
            if not record.command_type or len(record.command_type) > limits.MESSAGE_TYPE:
                raise ValueError(f"command_type must be 1..{limits.MESSAGE_TYPE} characters")
        rows = [
            {
                "message_id": record.message_id,
                "guild_id": record.guild_id,
                "command_type": record.command_type,
                "applied_at": record.applied_at,
                "reply": record.reply,
            }
            for record in applied
        ]
        try:
            await conn.execute(insert(AppliedMessageRow), rows)
        except IntegrityError as error:
            raise MessageAlreadyAppliedError(applied[0].message_id) from error

    async def purge(self, *, older_than: datetime, batch_size: int = PURGE_BATCH) -> int:
        """Delete records applied before ``older_than``, ``batch_size`` per transaction (so
        no lock is held long); returns how many were deleted."""
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")

        async def batch(conn: AsyncConnection) -> tuple[int, int]:
            ids = list(
                (
                    await conn.execute(
                        select(AppliedMessageRow.message_id)
                        .where(AppliedMessageRow.applied_at < older_than)
                        .order_by(AppliedMessageRow.applied_at)
                        .limit(batch_size)
                    )
                ).scalars()
            )
            if not ids:
                return 0, 0
            result = await conn.execute(
                delete(AppliedMessageRow).where(AppliedMessageRow.message_id.in_(ids))
            )
            return len(ids), int(result.rowcount)

        total = 0
        while True:
            selected, deleted = await in_transaction(self._engine, "applied.purge", batch)
            total += deleted
            if selected < batch_size:
                return total
