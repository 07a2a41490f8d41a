"""Fencing tokens: refuse a commit from a worker whose partition lease was lost meanwhile.

Each lease acquisition hands its holder a token that rises per partition. A holder's
transaction calls :func:`advance_fence` with its token *first* (before touching any other
row, so locks are always taken in the order fence → queue row): the stored token of the
partition is raised to it, or, if the stored one is higher, :class:`StaleFencingTokenError`
is raised and the caller's transaction must roll back. A new holder's first transaction
therefore waits for the old holder's in-flight commits, and none of the old holder's later
transactions can commit.

Locking: the stored token is first read without a lock (the latest committed one). An
older stored token is raised with a conditional ``UPDATE`` (exclusive row lock until
commit); an equal one is re-read ``FOR SHARE`` (PostgreSQL and MariaDB), so one holder's
concurrent transactions do not queue behind each other while a newer holder's ``UPDATE``
waits for all of them to end. SQLite serialises writers with ``BEGIN IMMEDIATE`` instead.
The first token of a partition is inserted with the dialect's insert-or-ignore, so two
concurrent first inserts need no retry: the later one waits for the earlier one's commit,
then reads its row.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from backbeat.db.models import PartitionFence
from backbeat.db.transactions import transact
from backbeat.db.types import utc_now
from backbeat.domain import limits
from backbeat.errors import StaleFencingTokenError

#: Passes over the fence row before giving up; each further pass needs another worker to
#: have changed the row meanwhile (a lease moving again), so a few are plenty.
_MAX_PASSES = 4


def _insert_or_ignore(dialect: str, values: dict[str, Any]) -> Any:
    if dialect == "postgresql":
        return postgresql.insert(PartitionFence).values(values).on_conflict_do_nothing()
    if dialect == "sqlite":
        return sqlite.insert(PartitionFence).values(values).on_conflict_do_nothing()
    statement = mysql.insert(PartitionFence).values(values)
    return statement.on_duplicate_key_update(token=PartitionFence.token)


async def _stored(
    conn: AsyncConnection, pool: str, partition: int, *, share: bool = False
) -> int | None:
    statement = select(PartitionFence.token).where(
        PartitionFence.pool == pool, PartitionFence.partition == partition
    )
    if share:
        statement = statement.with_for_update(read=True)
    return (await conn.execute(statement)).scalar_one_or_none()


async def advance_fence(conn: AsyncConnection, *, pool: str, partition: int, token: int) -> None:
    """In the caller's transaction: accept ``token`` for ``pool``/``partition`` (store it if
    higher than the stored one, or the first) or raise :class:`StaleFencingTokenError`."""
    if not pool or len(pool) > limits.LEASE_POOL:
        raise ValueError(f"pool must be 1..{limits.LEASE_POOL} characters")
    if not conn.in_transaction():
        raise RuntimeError("advance_fence runs inside the caller's transaction")
    # Each pass reads the latest committed token (READ COMMITTED, no lock) and then locks
    # the row the way its case needs; a pass repeats only if the row changed in between.
    for _ in range(_MAX_PASSES):
        stored = await _stored(conn, pool, partition)
        if stored is None:
            values = {"pool": pool, "partition": partition, "token": token, "updated_at": utc_now()}
            await conn.execute(_insert_or_ignore(conn.dialect.name, values))
            continue
        if stored > token:
            raise StaleFencingTokenError(pool, partition, token, stored)
        if stored == token:
            if await _stored(conn, pool, partition, share=True) == token:
                return
            continue
        raised = await conn.execute(
            update(PartitionFence)
            .where(
                PartitionFence.pool == pool,
                PartitionFence.partition == partition,
                PartitionFence.token < token,
            )
            .values(token=token, updated_at=utc_now())
        )
        if raised.rowcount:
            return
    current = await _stored(conn, pool, partition, share=True)
    if current is not None and current > token:
        raise StaleFencingTokenError(pool, partition, token, current)
    raise RuntimeError(f"fence of {pool} partition {partition} kept changing")  # pragma: no cover


class FencingRepository:
    """The ``partition_fences`` table, for callers that have no transaction of their own."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def advance(
        self, *, pool: str, partition: int, token: int, conn: AsyncConnection | None = None
    ) -> None:
        """:func:`advance_fence` in its own transaction, or on ``conn``."""

        async def work(conn: AsyncConnection) -> None:
            await advance_fence(conn, pool=pool, partition=partition, token=token)

        await transact(self._engine, "fence.advance", work, conn=conn)

    async def current(
        self, *, pool: str, partition: int, conn: AsyncConnection | None = None
    ) -> int | None:
        """The partition's stored token, None before its first."""

        async def work(conn: AsyncConnection) -> int | None:
            return (
                await conn.execute(
                    select(PartitionFence.token).where(
                        PartitionFence.pool == pool, PartitionFence.partition == partition
                    )
                )
            ).scalar_one_or_none()

        return await transact(self._engine, "fence.current", work, read_only=True, conn=conn)
