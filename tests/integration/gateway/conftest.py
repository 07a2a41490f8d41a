"""Fixtures of the gateway integration tests: emulator, migrated database, bus, cache, gateway."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager

import pytest
from gateway_harness import StartGateway, gateway_settings, running_gateway
from sqlalchemy.ext.asyncio import AsyncEngine

from backbeat.bus.interface import Bus, BusConfig
from backbeat.cache import CacheKeys, CacheStore, MemoryCacheStore, RedisCacheStore
from backbeat.config import Settings
from backbeat.db.engine import create_engine
from backbeat.db.migrate import migrate_to
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
