"""Stopping a reader in the middle of a take-back claim: the claim is not cancelled, nothing
more is handed, and the next take-back handles every pending entry in stream order."""

from __future__ import annotations

import asyncio

from backbeat.bus import AUDIO_POOL, Delivery
from backbeat.bus.consumer import StreamConsumer
from backbeat.bus.leases import MemoryLeaseStore
from backbeat.bus.memory_store import MemoryStreamStore
from backbeat.bus.store import Entry
from backbeat.bus.streams import StreamBus
from backbeat.domain.messages import Channel
from backbeat.testing.bus_fixtures import FAST_CONFIG, Recorder, eventually, kill, label, play

GUILD = 20_000_000_000_000_000  # partition 0 of 4


class GatedClaims(MemoryStreamStore):
    """Claims wait at a gate the test opens, so a stop can land in the middle of one."""

    def __init__(self) -> None:
        super().__init__()
        self.gated = False
        self.gate = asyncio.Event()
        self.entered = asyncio.Event()
        self.finished: list[str] = []

    async def claim_entry(
        self, stream: str, group: str, consumer: str, entry_id: str, min_idle_ms: int
    ) -> Entry | None:
        if self.gated:
            self.entered.set()
            await self.gate.wait()
        entry = await super().claim_entry(stream, group, consumer, entry_id, min_idle_ms)
        self.finished.append(entry_id)
        return entry


async def test_stop_during_a_claim_neither_cancels_it_nor_breaks_stream_order() -> None:
    store = GatedClaims()
    bus = StreamBus(store, {AUDIO_POOL: MemoryLeaseStore()}, config=FAST_CONFIG)
    for n in range(1, 4):
        await bus.publish(Channel.COMMANDS, play(GUILD, f"m{n}"))

    def exclusive(recorder: Recorder, name: str) -> StreamConsumer:
        return bus.consume(
            Channel.COMMANDS, recorder, partitions=[0], consumer=name, exclusive=True
        )

    hung = asyncio.Event()

    async def hang(delivery: Delivery) -> None:
        hung.set()
        await asyncio.Event().wait()

    task = asyncio.create_task(exclusive(Recorder(hook=hang), "A").run())
    await asyncio.wait_for(hung.wait(), 15)
    await kill(task)  # m1, m2, m3 pending under A

    store.gated = True
    b_seen = Recorder()
    b = exclusive(b_seen, "B")
    b_task = asyncio.create_task(b.run())
    await asyncio.wait_for(store.entered.wait(), 15)  # B is inside the claim of m1
    stopping = asyncio.create_task(b.stop())
    await asyncio.sleep(0.1)
    assert not stopping.done()  # stop waits for the claim instead of cancelling it
    store.gate.set()
    await asyncio.wait_for(stopping, 15)
    await asyncio.wait_for(b_task, 15)
    assert len(store.finished) == 1  # the claim completed; nothing else was claimed
    assert b_seen.deliveries == []  # and nothing was handed after the stop
    pending = await store.pending(bus.keys.stream(Channel.COMMANDS, 0), "audio")
    assert [p.consumer for p in pending] == ["B", "A", "A"]

    store.gated = False
    a_seen = Recorder()
    a = exclusive(a_seen, "A")
    a_task = asyncio.create_task(a.run())
    await eventually(lambda: len(a_seen.deliveries) == 3)
    await a.stop()
    await a_task
    assert [label(d.message) for d in a_seen.deliveries] == ["m1", "m2", "m3"]
