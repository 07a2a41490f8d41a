"""Timestamps come back as aware UTC; retry classification on real database errors."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import DBAPIError, IntegrityError, StatementError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from backbeat.db.models import LyricsCache
from backbeat.db.transactions import in_transaction, is_retryable
from backbeat.observability.metrics import db_operation_duration_seconds

PLUS_TWO = timezone(timedelta(hours=2))


async def test_timestamps_round_trip_as_utc_with_microseconds(engine: AsyncEngine) -> None:
    moment = datetime(2025, 6, 1, 14, 30, 15, 123456, tzinfo=PLUS_TWO)
    async with engine.begin() as conn:
        await conn.execute(
            insert(LyricsCache).values(track_key="k", lyrics="l", source="s", fetched_at=moment)
        )
        stored = (await conn.execute(select(LyricsCache.fetched_at))).scalar_one()
    assert stored == moment
    assert stored.utcoffset() == timedelta(0)
    assert stored.microsecond == 123456


async def test_naive_timestamps_are_refused(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        with pytest.raises(StatementError, match="timezone-aware"):
            await conn.execute(
                insert(LyricsCache).values(
                    track_key="k", lyrics="l", source="s", fetched_at=datetime(2025, 1, 1)
                )
            )


async def test_unique_violation_is_retryable_only_when_asked(engine: AsyncEngine) -> None:
    async def insert_twice(conn: AsyncConnection) -> None:
        for _ in range(2):
            await conn.execute(insert(LyricsCache).values(track_key="dup", lyrics="", source=""))

    with pytest.raises(IntegrityError) as caught:
        await in_transaction(engine, "test.dup", insert_twice)
    assert not is_retryable(caught.value)
    assert is_retryable(caught.value, integrity=True)


async def test_syntax_errors_are_not_retried_and_time_is_observed(engine: AsyncEngine) -> None:
    calls: list[int] = []

    async def broken(conn: AsyncConnection) -> None:
        calls.append(1)
        await conn.exec_driver_sql("SELEC 1")

    before = _count("test.broken")
    with pytest.raises(DBAPIError) as caught:
        await in_transaction(engine, "test.broken", broken)
    assert not is_retryable(caught.value)
    assert calls == [1]
    assert _count("test.broken") == before + 1


def _count(operation: str) -> float:
    for metric in db_operation_duration_seconds.collect():
        for sample in metric.samples:
            if sample.name.endswith("_count") and sample.labels.get("operation") == operation:
                return sample.value
    return 0.0
