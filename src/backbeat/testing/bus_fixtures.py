"""pytest fixtures for the bus, on the backend ``--bus`` chose (memory or redis).

``make_bus(config=None)`` builds buses that share one place: the same in-process stores, or
the same Redis key prefix, so several "processes" (workers, gateways) of one test see the same
streams. ``bus`` is one such bus. :data:`FAST_CONFIG` keeps reads and claims short and leases long.
:class:`ManualClock` lets tests of the in-process lease store move time by hand.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

import pytest
import pytest_asyncio

from backbeat.bus.factory import redis_bus
from backbeat.bus.interface import BusConfig, Delivery
from backbeat.bus.keys import AUDIO_POOL
from backbeat.bus.leases import MemoryLeaseStore
from backbeat.bus.memory_store import MemoryStreamStore
from backbeat.bus.streams import StreamBus
from backbeat.domain.messages import DiscordContext, Envelope
from backbeat.domain.messages.commands import Play, QueryPayload

#: Timings for tests: reads block briefly, but leases are long enough (3 s, renewed every
#: second, a guard margin of 1 s) that a loaded machine's scheduler stalls do not make
#: leases lapse. Tests that need a lease to expire pass a shorter ``ttl_ms`` and wait for
#: the expiry to be observed, never for a fixed time.
FAST_CONFIG = BusConfig(
    partitions=4,
    shard_count=2,
    max_deliveries=3,
    claim_idle_ms=500,
    lease_ttl_ms=3000,
    block_ms=100,
    batch=50,
)

MakeBus = Callable[..., StreamBus]


class ManualClock:
    """A monotonic clock that moves only when told (``MemoryLeaseStore(clock=...)``)."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Runnable(Protocol):
    async def run(self) -> None: ...

    async def stop(self) -> None: ...


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


_numbers = itertools.count(1)


def play(guild_id: int, label: str = "") -> Play:
    """A play command whose query (its label) tells a test which one it was."""
    query = label or f"song {next(_numbers)}"
    return Play(
        guild_id=guild_id, context=DiscordContext(user_id=42), payload=QueryPayload(query=query)
    )


def label(message: Envelope) -> str:
    """The label of a message made by :func:`play`."""
    if not isinstance(message, Play):
        raise TypeError(f"not a play command: {message.type}")
    return message.payload.query


@dataclass
class Recorder:
    """A bus handler recording what it handled; ``hook`` runs first (block, fail…)."""

    deliveries: list[Delivery] = field(default_factory=list)
    hook: Callable[[Delivery], Awaitable[None]] | None = None

    async def __call__(self, delivery: Delivery) -> None:
        if self.hook is not None:
            await self.hook(delivery)
        self.deliveries.append(delivery)

    def labels(self, guild_id: int | None = None) -> list[str]:
        return [
            label(d.message)
            for d in self.deliveries
            if guild_id is None or d.message.guild_id == guild_id
        ]


@contextlib.asynccontextmanager
async def running(worker: Runnable) -> AsyncIterator[asyncio.Task[None]]:
    """Run a consumer or worker for a block (its task is yielded, to kill it); stop it after."""
    task = asyncio.create_task(worker.run())
    try:
        yield task
    finally:
        if not task.done():
            await worker.stop()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def kill(task: asyncio.Task[None]) -> None:
    """Cancel a running consumer or worker as a crash would: nothing in hand is acknowledged."""
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def eventually(
    condition: Callable[[], bool | Awaitable[bool]], seconds: float = 15.0
) -> None:
    """Wait until ``condition()`` (sync or async) holds, failing the test after ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        result = condition()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            pytest.fail(f"condition not reached within {seconds} s")
        await asyncio.sleep(0.01)


__all__ = [
    "FAST_CONFIG",
    "MakeBus",
    "ManualClock",
    "Recorder",
    "bus",
    "eventually",
    "kill",
    "label",
    "make_bus",
    "play",
    "running",
]
