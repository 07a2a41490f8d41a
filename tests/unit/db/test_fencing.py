"""Fencing tokens: an older token is refused, an equal or newer one accepted, on every backend,
also when transactions of two connection pools (two workers) race."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from backbeat.db.engine import create_engine
from backbeat.db.repositories import FencingRepository, advance_fence, advance_fences
from backbeat.errors import StaleFencingTokenError

POOL = "audio"
#: Long enough to notice a transaction that should be waiting but is not (never a deadline).
SETTLE_S = 0.3


@asynccontextmanager
async def _transaction(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    async with engine.connect() as conn, conn.begin():
        yield conn


@pytest.fixture
async def second_engine(migrated_url: str) -> AsyncIterator[AsyncEngine]:
    """Another connection pool on the same database: a second worker process."""
    other = create_engine(migrated_url)
    yield other
    await other.dispose()


async def test_first_equal_and_newer_tokens_are_accepted_older_refused(
    engine: AsyncEngine,
) -> None:
    fences = FencingRepository(engine)
    assert await fences.current(pool=POOL, partition=3) is None

    await fences.advance(pool=POOL, partition=3, token=5)
    assert await fences.current(pool=POOL, partition=3) == 5
    await fences.advance(pool=POOL, partition=3, token=5)
    assert await fences.current(pool=POOL, partition=3) == 5
    await fences.advance(pool=POOL, partition=3, token=9)
    assert await fences.current(pool=POOL, partition=3) == 9

    with pytest.raises(StaleFencingTokenError) as raised:
        await fences.advance(pool=POOL, partition=3, token=8)
    error = raised.value
    assert (error.pool, error.partition, error.token, error.current) == (POOL, 3, 8, 9)
    assert await fences.current(pool=POOL, partition=3) == 9

    # Partitions and pools are independent.
    await fences.advance(pool=POOL, partition=4, token=1)
    await fences.advance(pool="other", partition=3, token=1)
    assert await fences.current(pool=POOL, partition=4) == 1
    assert await fences.current(pool="other", partition=3) == 1
    assert await fences.current(pool=POOL, partition=3) == 9


async def test_advance_fence_joins_the_callers_transaction(engine: AsyncEngine) -> None:
    fences = FencingRepository(engine)

    async def fenced_then_failed() -> None:
        async with _transaction(engine) as conn:
            await advance_fence(conn, pool=POOL, partition=0, token=3)
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError, match="rolled back"):
        await fenced_then_failed()
    assert await fences.current(pool=POOL, partition=0) is None

    async with engine.connect() as conn:
        with pytest.raises(RuntimeError, match="transaction"):
            await advance_fence(conn, pool=POOL, partition=0, token=3)
    async with _transaction(engine) as conn:
        with pytest.raises(ValueError, match="pool"):
            await advance_fence(conn, pool="", partition=0, token=3)
        with pytest.raises(ValueError, match="pool"):
            await advance_fence(conn, pool="p" * 65, partition=0, token=3)


@pytest.mark.parametrize(("first", "second", "stored"), [(4, 4, 4), (4, 7, 7), (7, 4, 7)])
async def test_concurrent_first_inserts(
    engine: AsyncEngine, second_engine: AsyncEngine, first: int, second: int, stored: int
) -> None:
    """Two workers' first transactions of a partition: the second waits for the first to
    commit (PostgreSQL and MariaDB on the key, SQLite on the write lock), then is checked
    against the first's token: no integrity error, no retry."""
    async with _transaction(engine) as conn:
        await advance_fence(conn, pool=POOL, partition=1, token=first)

        async def racer() -> None:
            async with _transaction(second_engine) as other:
                await advance_fence(other, pool=POOL, partition=1, token=second)

        racing = asyncio.create_task(racer())
        await asyncio.sleep(SETTLE_S)
        assert not racing.done()
    if second < first:
        with pytest.raises(StaleFencingTokenError):
            await racing
    else:
        await racing
    assert await FencingRepository(engine).current(pool=POOL, partition=1) == stored


async def test_a_new_holder_waits_for_the_old_holders_commit_then_fences_it_out(
    engine: AsyncEngine, second_engine: AsyncEngine
) -> None:
    """The old holder (token 5) is inside a transaction when the lease moves; the new
    holder's (token 6) first transaction waits until that commit, and every later
    transaction of the old holder is refused."""
    fences = FencingRepository(engine)
    await fences.advance(pool=POOL, partition=2, token=5)
    async with _transaction(engine) as old:
        await advance_fence(old, pool=POOL, partition=2, token=5)

        async def new_holder() -> None:
            async with _transaction(second_engine) as new:
                await advance_fence(new, pool=POOL, partition=2, token=6)

        taking_over = asyncio.create_task(new_holder())
        await asyncio.sleep(SETTLE_S)
        assert not taking_over.done()
    await taking_over
    with pytest.raises(StaleFencingTokenError):
        await fences.advance(pool=POOL, partition=2, token=5)
    assert await fences.current(pool=POOL, partition=2) == 6


async def test_one_holders_transactions_do_not_queue_on_the_fence(
    db_backend: str, engine: AsyncEngine, second_engine: AsyncEngine
) -> None:
    """Equal tokens take a shared lock (PostgreSQL, MariaDB): two open transactions of the
    same holder both pass the fence."""
    if db_backend == "sqlite":
        pytest.skip("SQLite serialises every writing transaction")
    await FencingRepository(engine).advance(pool=POOL, partition=5, token=2)
    async with _transaction(engine) as first:
        await advance_fence(first, pool=POOL, partition=5, token=2)
        async with _transaction(second_engine) as second:
            await asyncio.wait_for(
                advance_fence(second, pool=POOL, partition=5, token=2), timeout=60
            )


async def test_advance_fences_settles_many_partitions_as_advance_fence_does(
    engine: AsyncEngine,
) -> None:
    fences = FencingRepository(engine)
    await fences.advance(pool=POOL, partition=1, token=4)
    await fences.advance(pool=POOL, partition=2, token=4)
    async with _transaction(engine) as conn:
        # equal (1), raised (2), first (3)
        await advance_fences(conn, pool=POOL, tokens={1: 4, 2: 6, 3: 2})
    assert [await fences.current(pool=POOL, partition=p) for p in (1, 2, 3)] == [4, 6, 2]

    with pytest.raises(StaleFencingTokenError) as raised:
        async with _transaction(engine) as conn:
            await advance_fences(conn, pool=POOL, tokens={1: 4, 2: 5})
    assert (raised.value.partition, raised.value.token, raised.value.current) == (2, 5, 6)
    async with _transaction(engine) as conn:
        await advance_fences(conn, pool=POOL, tokens={})
        await advance_fences(conn, pool=POOL, tokens={3: 3})
    assert await fences.current(pool=POOL, partition=3) == 3
