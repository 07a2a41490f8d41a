"""Per-guild lanes: one guild's slow handler never delays the other guilds of its partition,
each guild's messages stay in order, each is acknowledged once its own handler returned,
and a partition has at most ``batch`` entries in flight."""

from __future__ import annotations

import asyncio
import dataclasses

from backbeat.bus import Delivery, StreamBus
from backbeat.bus.worker import LeasedWorker
from backbeat.domain.messages import Channel
from backbeat.testing.bus_fixtures import (
    FAST_CONFIG,
    MakeBus,
    Recorder,
    eventually,
    label,
    play,
    running,
)

SLOW, OTHER = 40_000_000_000_000_000, 40_000_000_000_000_004  # both partition 0 of 4


async def _pending(bus: StreamBus, partition: int = 0) -> int:
    status = await bus.status(Channel.COMMANDS)
    groups = status.streams[partition].groups
    return groups[0].pending if groups else 0


async def _pending_is(bus: StreamBus, expected: int) -> bool:
    return await _pending(bus) == expected


def _blocking(release: asyncio.Event, entered: asyncio.Event) -> Recorder:
    async def hook(delivery: Delivery) -> None:
        if label(delivery.message) == "slow-1":
            entered.set()
            await release.wait()

    return Recorder(hook=hook)


async def _publish_interleaved(bus: StreamBus) -> None:
    for n in range(1, 4):
        await bus.publish(Channel.COMMANDS, play(SLOW, f"slow-{n}"))
        await bus.publish(Channel.COMMANDS, play(OTHER, f"other-{n}"))


async def test_a_slow_guild_does_not_delay_another_guild_of_its_partition(
    bus: StreamBus,
) -> None:
    assert bus.config.partition_of(Channel.COMMANDS, SLOW) == 0
    assert bus.config.partition_of(Channel.COMMANDS, OTHER) == 0
    release, entered = asyncio.Event(), asyncio.Event()
    recorder = _blocking(release, entered)
    await _publish_interleaved(bus)
    consumer = bus.consume(Channel.COMMANDS, recorder, partitions=[0], consumer="a")
    async with running(consumer):
        await asyncio.wait_for(entered.wait(), 15)
        await eventually(lambda: recorder.labels(OTHER) == ["other-1", "other-2", "other-3"])
        assert recorder.labels(SLOW) == []
        await eventually(lambda: _pending_is(bus, 3))  # others acknowledged, slow ones not
        release.set()
        await eventually(lambda: recorder.labels(SLOW) == ["slow-1", "slow-2", "slow-3"])
        await eventually(lambda: _pending_is(bus, 0))


async def test_a_leased_worker_serves_other_guilds_while_one_is_slow(make_bus: MakeBus) -> None:
    bus = make_bus()
    release, entered = asyncio.Event(), asyncio.Event()
    recorder = _blocking(release, entered)
    worker = LeasedWorker(bus, worker_id="a", handlers={Channel.COMMANDS: recorder})
    async with running(worker):
        await _publish_interleaved(bus)
        await asyncio.wait_for(entered.wait(), 15)
        await eventually(lambda: recorder.labels(OTHER) == ["other-1", "other-2", "other-3"])
        assert recorder.labels(SLOW) == []
        release.set()
        await eventually(lambda: recorder.labels(SLOW) == ["slow-1", "slow-2", "slow-3"])
    fences = {d.fence for d in recorder.deliveries}
    assert len(fences) == 1
    assert None not in fences


async def test_a_partition_has_at_most_batch_entries_in_flight(make_bus: MakeBus) -> None:
    bus = make_bus(dataclasses.replace(FAST_CONFIG, batch=3))
    release, entered = asyncio.Event(), asyncio.Event()
    recorder = _blocking(release, entered)
    for n in range(1, 6):
        await bus.publish(Channel.COMMANDS, play(SLOW, f"slow-{n}"))
    await bus.publish(Channel.COMMANDS, play(OTHER, "other-1"))
    consumer = bus.consume(Channel.COMMANDS, recorder, partitions=[0], consumer="a")
    async with running(consumer):
        await asyncio.wait_for(entered.wait(), 15)
        # slow-1 in the handler, slow-2 and slow-3 queued behind it: no room to read more.
        assert await _pending(bus) == 3
        assert recorder.deliveries == []
        release.set()
        await eventually(lambda: len(recorder.deliveries) == 6)
    assert recorder.labels(SLOW) == [f"slow-{n}" for n in range(1, 6)]
    assert await _pending(bus) == 0


async def test_stop_lets_handlers_in_progress_finish_and_leaves_queued_entries_pending(
    bus: StreamBus,
) -> None:
    release, entered = asyncio.Event(), asyncio.Event()
    recorder = _blocking(release, entered)
    for n in range(1, 4):
        await bus.publish(Channel.COMMANDS, play(SLOW, f"slow-{n}"))
    consumer = bus.consume(Channel.COMMANDS, recorder, partitions=[0], consumer="a", exclusive=True)
    task = asyncio.create_task(consumer.run())
    await asyncio.wait_for(entered.wait(), 15)
    stopping = asyncio.create_task(consumer.stop())
    await asyncio.sleep(0)
    release.set()  # well within the stop grace (half the lease TTL)
    await asyncio.wait_for(stopping, 15)
    await asyncio.wait_for(task, 15)
    assert recorder.labels() == ["slow-1"]  # finished (and acknowledged), nothing more handed
    assert await _pending(bus) == 2

    after = Recorder()
    successor = bus.consume(Channel.COMMANDS, after, partitions=[0], consumer="b", exclusive=True)
    async with running(successor):
        await eventually(lambda: after.labels() == ["slow-2", "slow-3"])
