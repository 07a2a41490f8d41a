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

:func:`advance_fences` does the same for several partitions of one pool (a batch of
commands from many partitions): in the steady state (every stored token equal to the
holder's) two statements for all of them, the unlocked read and the ``FOR SHARE`` re-read;
any other partition goes through :func:`advance_fence`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from backbeat.db.models import PartitionFence
from backbeat.db.transactions import transact
from backbeat.db.types import one_of, utc_now
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


async def _stored_many(
    conn: AsyncConnection, pool: str, partitions: list[int], *, share: bool = False
) -> dict[int, int]:
    statement = select(PartitionFence.partition, PartitionFence.token).where(
        PartitionFence.pool == pool,
        one_of(PartitionFence.partition, partitions, conn.dialect.name),
    )
    if share:
        statement = statement.with_for_update(read=True)
    return {row.partition: row.token for row in await conn.execute(statement)}


async def advance_fences(conn: AsyncConnection, *, pool: str, tokens: Mapping[int, int]) -> None:
    """:func:`advance_fence` for each ``partition: token`` of ``tokens`` (in partition
    order), with the steady state of all of them settled by two statements."""
    if not pool or len(pool) > limits.LEASE_POOL:
        raise ValueError(f"pool must be 1..{limits.LEASE_POOL} characters")
    partitions = sorted(tokens)
    if not partitions:
        return
    if len(partitions) == 1:
        await advance_fence(conn, pool=pool, partition=partitions[0], token=tokens[partitions[0]])
        return
    stored = await _stored_many(conn, pool, partitions)
    for partition in partitions:
        if stored.get(partition, tokens[partition]) > tokens[partition]:
            raise StaleFencingTokenError(pool, partition, tokens[partition], stored[partition])
    equal = [p for p in partitions if stored.get(p) == tokens[p]]
    settled: set[int] = set()
    if equal:
        shared = await _stored_many(conn, pool, equal, share=True)
        settled = {p for p in equal if shared.get(p) == tokens[p]}
    for partition in partitions:
        if partition not in settled:
            await advance_fence(conn, pool=pool, partition=partition, token=tokens[partition])


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
