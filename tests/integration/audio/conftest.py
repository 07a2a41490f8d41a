"""Fixtures of the audio integration tests: the two stacks and a running audio rig.

``audio_stack`` is ``embedded`` (in-process bus + SQLite) when ``--bus`` includes memory and
``--db`` includes sqlite, ``redis-postgresql`` when they include redis and postgresql (and
``redis-mariadb`` likewise): ``--bus=all --db=sqlite,postgresql`` runs the two of the issue.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import pytest_asyncio
from audio_rig import AUDIO_BUS_CONFIG, AudioRig, RigFactory, fast_settings
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncEngine

from backbeat.bus.factory import redis_bus
from backbeat.bus.keys import AUDIO_POOL
from backbeat.bus.leases import MemoryLeaseStore
from backbeat.bus.memory_store import MemoryStreamStore
from backbeat.bus.streams import StreamBus
from backbeat.config import AudioSettings
from backbeat.db.engine import create_engine
from backbeat.db.migrate import migrate_to
from backbeat.db.models import Base
from backbeat.testing.backends import create_database, drop_database, new_run_id, run_sync
from backbeat.testing.lavalink.fixtures import EmulatorFactory

_RUN = new_run_id()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "audio_stack" not in metafunc.fixturenames:
        return
    buses = metafunc.config.backbeat_buses  # type: ignore[attr-defined]
    dbs = metafunc.config.backbeat_dbs  # type: ignore[attr-defined]
    stacks = []
    if "memory" in buses and "sqlite" in dbs:
        stacks.append("embedded")
    if "redis" in buses and "postgresql" in dbs:
        stacks.append("redis-postgresql")
    if "redis" in buses and "mariadb" in dbs:
        stacks.append("redis-mariadb")
    metafunc.parametrize("audio_stack", stacks, scope="session")


@pytest.fixture(scope="session")
def audio_db_url(audio_stack: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    backend = "sqlite" if audio_stack == "embedded" else audio_stack.removeprefix("redis-")
    url = run_sync(
        create_database(backend, f"backbeat_audio_{_RUN}", sqlite_dir=tmp_path_factory.mktemp("a"))
    )

    async def migrate() -> None:
        engine = create_engine(url)
        try:
            await migrate_to(engine, "head")
        finally:
            await engine.dispose()

    run_sync(migrate())
    yield url
    run_sync(drop_database(backend, url))


@pytest_asyncio.fixture
async def audio_engine(audio_db_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(audio_db_url)
    async with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            await connection.execute(delete(table))
    yield engine
    await engine.dispose()


@pytest_asyncio.fixture
async def audio_bus(audio_stack: str, request: pytest.FixtureRequest) -> AsyncIterator[StreamBus]:
    if audio_stack == "embedded":
        bus = StreamBus(
            MemoryStreamStore(), {AUDIO_POOL: MemoryLeaseStore()}, config=AUDIO_BUS_CONFIG
        )
    else:
        url = request.getfixturevalue("redis_url")
        prefix = request.getfixturevalue("redis_key_prefix")
        bus = redis_bus(url, prefix=prefix, config=AUDIO_BUS_CONFIG)
    yield bus
    await bus.close()


@pytest_asyncio.fixture
async def make_rig(
    audio_bus: StreamBus,
    audio_engine: AsyncEngine,
    audio_db_url: str,
    lavalink_emulator_factory: EmulatorFactory,
) -> AsyncIterator[RigFactory]:
    rigs: list[AudioRig] = []

    async def make(
        settings: AudioSettings | None = None, *, start_worker: bool = True, **kwargs: Any
    ) -> AudioRig:
        emulator = await lavalink_emulator_factory(manual_clock=True)
        rig = AudioRig(
            bus=audio_bus,
            engine=audio_engine,
            emulator=emulator,
            settings=settings or fast_settings(),
            **kwargs,
        )
        rig.db_url = audio_db_url
        rigs.append(rig)
        await rig.start(start_worker=start_worker)
        return rig

    try:
        yield make
    finally:
        for rig in rigs:
            await rig.close()


@pytest_asyncio.fixture
async def rig(make_rig: RigFactory) -> AudioRig:
    return await make_rig()
