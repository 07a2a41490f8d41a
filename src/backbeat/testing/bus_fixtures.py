"""pytest fixtures for the bus, on the backend ``--bus`` chose (memory or redis).

``make_bus(config=None)`` builds buses that share one place: the same in-process stores, or
the same Redis key prefix, so several "processes" (workers, gateways) of one test see the same
streams. ``bus`` is one such bus. :data:`FAST_CONFIG` keeps lease and claim times short.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest
import pytest_asyncio

from backbeat.bus.factory import redis_bus
from backbeat.bus.interface import BusConfig
from backbeat.bus.keys import AUDIO_POOL
from backbeat.bus.leases import MemoryLeaseStore
from backbeat.bus.memory_store import MemoryStreamStore
from backbeat.bus.streams import StreamBus

#: Short timings so tests of expiry and reclaiming take well under a second each.
FAST_CONFIG = BusConfig(
    partitions=4,
    shard_count=2,
    max_deliveries=3,
    claim_idle_ms=200,
    lease_ttl_ms=400,
    block_ms=100,
    batch=50,
)

MakeBus = Callable[..., StreamBus]


class _MemoryStoreShared(MemoryStreamStore):
    """A memory store that several test buses share; closing one bus leaves it usable."""

    async def close(self) -> None:
        return None


@pytest_asyncio.fixture
async def make_bus(bus_backend: str, request: pytest.FixtureRequest) -> AsyncIterator[MakeBus]:
    """Build buses on the chosen backend that all see the same streams and leases."""
    made: list[StreamBus] = []
    store = _MemoryStoreShared()
    leases = MemoryLeaseStore()
    url = prefix = ""
    if bus_backend == "redis":
        url = request.getfixturevalue("redis_url")
        prefix = request.getfixturevalue("redis_key_prefix")

    def build(config: BusConfig | None = None) -> StreamBus:
        chosen = config or FAST_CONFIG
        if bus_backend == "redis":
            bus = redis_bus(url, prefix=prefix, config=chosen)
        else:
            bus = StreamBus(store, {AUDIO_POOL: leases}, config=chosen)
        made.append(bus)
        return bus

    yield build
    for bus in made:
        await bus.close()


@pytest_asyncio.fixture
async def bus(make_bus: MakeBus) -> StreamBus:
    """A bus on the backend chosen by ``--bus`` with :data:`FAST_CONFIG`."""
    return make_bus()


__all__ = ["FAST_CONFIG", "MakeBus", "bus", "make_bus"]
