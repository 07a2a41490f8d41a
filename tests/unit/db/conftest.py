"""Database fixtures: one migrated database per backend, emptied before each test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncEngine

from backbeat.db.engine import create_engine
from backbeat.db.migrate import migrate_to
from backbeat.db.models import Base
from backbeat.testing.backends import run_sync


async def _migrate(url: str) -> None:
    engine = create_engine(url)
    try:
        await migrate_to(engine, "head")
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def migrated_url(database_url: str) -> str:
    """The run's database on this backend, migrated to head once."""
    run_sync(_migrate(database_url))
    return database_url


@pytest.fixture
async def engine(migrated_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on the migrated database, every table emptied first."""
    engine = create_engine(migrated_url)
    async with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            await connection.execute(delete(table))
    yield engine
    await engine.dispose()
