"""A read an old owner sends after its lease moved on must not strand new messages.

A reader checks its lease token, then reads new entries (XREADGROUP ``>``). Between the two
its event loop can stall (or its connection lag) for longer than the lease TTL; the read
then reaches Redis after another worker acquired the partition and finished its take-back.
Whatever that read delivered would be pending under the old owner, which hands nothing more,
until the partition moved again. The bus fences group reads: the store reads only while the
lease is still held (one script on Redis), so the late read takes nothing.

The stall is made deterministic with gates over the real Redis store and lease store of the
old owner: its next ``read_new`` and its renewals wait until the test opens them, as a
stalled event loop holds both, and are let go after the new owner took over.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest
import redis.asyncio as aioredis
from bus_process_harness import pending_report

from backbeat.bus.interface import BusConfig
from backbeat.bus.keys import AUDIO_POOL, Keys
from backbeat.bus.leases import RedisLeaseStore
from backbeat.bus.redis_store import RedisStreamStore
from backbeat.bus.streams import StreamBus
from backbeat.bus.worker import LeasedWorker
from backbeat.domain.messages import Channel
from backbeat.testing.bus_fixtures import Recorder, eventually, play
from backbeat.testing.redis_server import RedisServer

pytestmark = pytest.mark.slow

PREFIX = "stray:"
CONFIG = BusConfig(partitions=1, shard_count=1, lease_ttl_ms=1500, block_ms=100, batch=20)


class GatedStreamStore(RedisStreamStore):
    """The real store; ``read_new`` waits while ``gate`` is closed (``parked`` tells), and
    what such a held-back read returned is kept in ``late_reads``."""

    def __init__(self, client: aioredis.Redis) -> None:
        super().__init__(client)
        self.gate = asyncio.Event()
        self.gate.set()
        self.parked = asyncio.Event()
        self.late_reads: list[Any] = []

    async def read_new(self, *args: Any, **kwargs: Any) -> Any:
        if self.gate.is_set():
            return await super().read_new(*args, **kwargs)
        self.parked.set()
        await self.gate.wait()
        result = await super().read_new(*args, **kwargs)
        self.late_reads.append(result)
        return result


class GatedLeaseStore(RedisLeaseStore):
    """The real lease store; renewals wait while ``gate`` is closed (the lease lapses)."""

    def __init__(self, client: aioredis.Redis, keys: Keys, pool: str) -> None:
        super().__init__(client, keys, pool)
        self.gate = asyncio.Event()
        self.gate.set()

    async def renew(self, *args: Any, **kwargs: Any) -> bool:
        await self.gate.wait()
        return await super().renew(*args, **kwargs)


def gated_bus(url: str) -> tuple[StreamBus, GatedStreamStore, GatedLeaseStore]:
    client = aioredis.Redis.from_url(url, decode_responses=False)
    keys = Keys(PREFIX)
    store = GatedStreamStore(client)
    leases = GatedLeaseStore(client, keys, AUDIO_POOL)
    return StreamBus(store, {AUDIO_POOL: leases}, config=CONFIG, keys=keys), store, leases


async def test_a_late_read_of_a_lost_owner_does_not_strand_messages(
    redis_server: RedisServer,
) -> None:
    bus_a, store_a, leases_a = gated_bus(redis_server.url)
    bus_b, store_b, _ = gated_bus(redis_server.url)
    publisher, *_ = gated_bus(redis_server.url)
    handled_a, handled_b = Recorder(), Recorder()
    worker_a = LeasedWorker(bus_a, worker_id="audio-a", handlers={Channel.COMMANDS: handled_a})
    worker_b = LeasedWorker(bus_b, worker_id="audio-b", handlers={Channel.COMMANDS: handled_b})
    tasks: list[asyncio.Task[None]] = []
    try:
        tasks.append(asyncio.create_task(worker_a.run()))
        await eventually(lambda: worker_a.owned == frozenset({0}), 30)
        await publisher.publish(Channel.COMMANDS, play(1, "first"))
        await eventually(lambda: handled_a.labels() == ["first"], 30)

        # audio-a's reader passed its lease check and is about to read; its loop "stalls"
        # there while its lease lapses (renewals held back too).
        store_a.gate.clear()
        await asyncio.wait_for(store_a.parked.wait(), 30)
        leases_a.gate.clear()

        # audio-b takes the partition over (take-back: nothing pending) and handles a message.
        tasks.append(asyncio.create_task(worker_b.run()))
        await eventually(lambda: worker_b.owned == frozenset({0}), 30)
        await publisher.publish(Channel.COMMANDS, play(1, "second"))
        await eventually(lambda: handled_b.labels() == ["second"], 30)

        # audio-b's next read waits a moment; new messages arrive; audio-a's late read goes out.
        store_b.gate.clear()
        await asyncio.wait_for(store_b.parked.wait(), 30)
        for label in ("third", "fourth", "fifth"):
            await publisher.publish(Channel.COMMANDS, play(1, label))
        store_a.gate.set()
        await eventually(lambda: bool(store_a.late_reads), 30)
        # The store refused it: audio-a's lease is audio-b's now, so nothing was read.
        assert store_a.late_reads == [None], store_a.late_reads
        store_b.gate.set()
        leases_a.gate.set()

        async def handled_by_b() -> bool:
            return handled_b.labels() == ["second", "third", "fourth", "fifth"]

        try:
            await eventually(handled_by_b, 15)
        except BaseException:
            report = await pending_report(redis_server.url, PREFIX, 1)
            raise AssertionError(
                f"audio-b handled {handled_b.labels()}, audio-a {handled_a.labels()}; "
                f"pending:\n{report}"
            ) from None
        assert handled_a.labels() == ["first"]
    finally:
        for worker in (worker_a, worker_b):
            with contextlib.suppress(Exception):
                await asyncio.wait_for(worker.stop(), 10)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for bus in (bus_a, bus_b, publisher):
            await bus.close()
