"""A tap's iterator ends when its task is cancelled, even when a store call lost the
cancellation (Python 3.11's ``asyncio.wait_for``, under every redis-py command send, returns
normally when the awaited write finished in the step the task was cancelled)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from backbeat.bus import AUDIO_POOL
from backbeat.bus.leases import MemoryLeaseStore
from backbeat.bus.memory_store import MemoryStreamStore
from backbeat.bus.streams import StreamBus
from backbeat.domain.messages import Channel, Envelope
from backbeat.testing.bus_fixtures import FAST_CONFIG, eventually, play


class CancelLosingStore(MemoryStreamStore):
    """Reads that swallow a cancellation and return nothing, as ``wait_for`` can on 3.11."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    async def read_after(
        self, positions: Mapping[str, str], count: int, block_ms: int
    ) -> list[tuple[str, str, bytes]]:
        self.reads += 1
        try:
            return await super().read_after(positions, count, block_ms)
        except asyncio.CancelledError:
            return []  # the cancellation is dropped; the task still counts the request


async def test_a_cancellation_lost_inside_a_read_still_ends_the_tap() -> None:
    store = CancelLosingStore()
    bus = StreamBus(store, {AUDIO_POOL: MemoryLeaseStore()}, config=FAST_CONFIG)
    received: list[Envelope] = []
    async with bus.tap(Channel.COMMANDS) as tap:

        async def collect() -> None:
            async for message in tap:
                received.append(message)

        task = asyncio.create_task(collect())
        await bus.publish(Channel.COMMANDS, play(1, "first"))
        await eventually(lambda: len(received) == 1)
        reads = store.reads
        await eventually(lambda: store.reads > reads)  # waiting inside a read again
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=5)
        assert done == {task}, "the tap went on reading after its task was cancelled"
        assert task.cancelled()
