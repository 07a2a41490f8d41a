"""A stopping reader gives a stuck handler half the lease TTL, the TTL its worker really uses
(``LeasedWorker(ttl_ms=...)``), not the deployment default, then abandons the message."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses

from backbeat.bus import Delivery
from backbeat.bus.worker import LeasedWorker
from backbeat.domain.messages import Channel
from backbeat.testing.bus_fixtures import FAST_CONFIG, MakeBus, eventually, play

GUILD = 80_000_000_000_000_000  # partition 0 of 4


async def test_a_stuck_handler_is_abandoned_after_half_the_workers_own_lease_ttl(
    make_bus: MakeBus,
) -> None:
    # With the configured TTL the grace would be 300 s: far beyond the limit below.
    bus = make_bus(dataclasses.replace(FAST_CONFIG, lease_ttl_ms=600_000))
    entered, cancelled = asyncio.Event(), asyncio.Event()

    async def stuck(delivery: Delivery) -> None:
        entered.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    worker = LeasedWorker(bus, worker_id="w", handlers={Channel.COMMANDS: stuck}, ttl_ms=3000)
    consumer = worker.consumers[Channel.COMMANDS]
    assert consumer.stop_grace_s == 1.5
    task = asyncio.create_task(worker.run())
    try:
        await eventually(lambda: worker.consuming == frozenset(range(4)), 30)
        await bus.publish(Channel.COMMANDS, play(GUILD, "stuck"))
        await asyncio.wait_for(entered.wait(), 30)
        await asyncio.wait_for(worker.stop(), 60)
        assert cancelled.is_set()
        status = await bus.status(Channel.COMMANDS)
        assert status.streams[0].groups[0].pending == 1  # left for the next owner
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
