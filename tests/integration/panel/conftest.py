"""Fixtures: a migrated database per backend (emptied per test), a bus, and the panel rig."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from panel_rig import PanelRig, start_rig
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncEngine

from backbeat.bus.streams import StreamBus
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
def panel_db_url(database_url: str) -> str:
    run_sync(_migrate(database_url))
    return database_url


@pytest.fixture
async def panel_engine(panel_db_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(panel_db_url)
    async with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            await connection.execute(delete(table))
    yield engine
    await engine.dispose()


@pytest.fixture
async def rig(panel_engine: AsyncEngine, bus: StreamBus) -> AsyncIterator[PanelRig]:
    async for running in start_rig(engine=panel_engine, bus=bus):
        yield running
