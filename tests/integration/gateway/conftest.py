"""Fixtures of the gateway integration tests: emulator, migrated database, bus, cache, gateway;
for the tests with the real audio component, its backends and the distributed set-up."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import pytest
from gateway_audio_rig import (
    AudioSetup,
    Backends,
    ManagedGuild,
    audio_setup,
    migrate,
    postgresql_database,
)
from gateway_harness import Place, StartGateway, gateway_settings, make_place, running_gateway
from sqlalchemy.ext.asyncio import AsyncEngine

from backbeat.bus.interface import Bus, BusConfig
from backbeat.cache import CacheKeys, CacheStore, MemoryCacheStore, RedisCacheStore
from backbeat.config import Settings
from backbeat.db.engine import create_engine
from backbeat.db.migrate import migrate_to
from backbeat.domain.permissions import MANAGE_GUILD
from backbeat.gateway.app import Gateway
from backbeat.gateway.discord_endpoints import discord_py_endpoints
from backbeat.testing.bus_fixtures import MakeBus
from backbeat.testing.discord import DiscordEmulator

GATEWAY_BUS = BusConfig(partitions=4, shard_count=1, block_ms=100, claim_idle_ms=500)


@pytest.fixture
async def emu() -> AsyncIterator[DiscordEmulator]:
    async with DiscordEmulator(port=0) as emulator:
        with discord_py_endpoints(emulator.rest_url, emulator.gateway_url):
            yield emulator


@pytest.fixture
async def place(emu: DiscordEmulator) -> Place:
    """A guild on the emulator with alice, bob, a text and two voice channels."""
    return await make_place(emu)


@pytest.fixture
async def engine(fresh_database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(fresh_database_url)
    await migrate_to(engine, "head")
    yield engine
    await engine.dispose()


@pytest.fixture
def cache_keys(bus_backend: str, request: pytest.FixtureRequest) -> CacheKeys:
    if bus_backend == "redis":
        return CacheKeys(request.getfixturevalue("redis_key_prefix"))
    return CacheKeys()


@pytest.fixture
async def cache(bus_backend: str, request: pytest.FixtureRequest) -> AsyncIterator[CacheStore]:
    """Redis when the bus is Redis (a deployment with Redis caches there), else memory."""
    store: CacheStore
    if bus_backend == "redis":
        store = RedisCacheStore.from_url(request.getfixturevalue("redis_url"))
    else:
        store = MemoryCacheStore()
    yield store
    await store.close()


@pytest.fixture
def gateway_bus(make_bus: MakeBus):  # type: ignore[no-untyped-def]
    return make_bus(GATEWAY_BUS)


@pytest.fixture
def start_gateway(
    emu: DiscordEmulator,
    gateway_bus: Bus,
    engine: AsyncEngine,
    cache: CacheStore,
    cache_keys: CacheKeys,
) -> StartGateway:
    """Starts the real gateway on this test's emulator, bus, database and cache."""
    shared = cache

    def start(
        settings: Settings | None = None, *, cache: CacheStore | None = None
    ) -> AbstractAsyncContextManager[Gateway]:
        return running_gateway(
            settings if settings is not None else gateway_settings(emu),
            bus=gateway_bus,
            engine=engine,
            cache=cache if cache is not None else shared,
            keys=cache_keys,
        )

    return start


@pytest.fixture
async def backends(db_backend: str, bus_backend: str, request: pytest.FixtureRequest) -> Backends:
    """The run's backends for the audio rig: a fresh migrated database unless SQLite, Redis
    when the bus is Redis."""
    database_url = None
    if db_backend != "sqlite":
        database_url = request.getfixturevalue("fresh_database_url")
        await migrate(database_url)
    redis = None
    if bus_backend == "redis":
        redis = (request.getfixturevalue("redis_url"), request.getfixturevalue("redis_key_prefix"))
    return Backends(database_url, redis)


@pytest.fixture
async def audio(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, backends: Backends
) -> AsyncIterator[AudioSetup]:
    """Both emulators, settings and a place on the run's backends, for the audio rig."""
    async with audio_setup(monkeypatch, tmp_path, backends) as setup:
        yield setup


@pytest.fixture
async def managed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, redis_url: str, redis_key_prefix: str
) -> AsyncIterator[ManagedGuild]:
    """The distributed set-up (PostgreSQL and Redis) with a guild alice manages."""
    redis = (redis_url, redis_key_prefix)
    async with (
        postgresql_database(tmp_path) as database_url,
        audio_setup(monkeypatch, tmp_path, Backends(database_url, redis)) as setup,
    ):
        control, place = setup.emu.control, setup.place
        managers = await control.create_role(place.guild, "Managers", permissions=MANAGE_GUILD)
        await control.put_member(place.guild, place.alice, roles=[int(managers["id"])])
        engine = create_engine(database_url)
        try:
            yield ManagedGuild(**vars(setup), engine=engine)
        finally:
            await engine.dispose()
