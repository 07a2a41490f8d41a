"""Batch mode: the guilds' lanes of a partition hand what they have ready to the batch
handler together, each guild's entries in stream order, each acknowledged once finished
(many ids per acknowledgement); a guild finished early goes on while another of its batch
is slow; a batch that fails is finished one entry at a time by the single handler, nothing
lost, nothing reported done handled twice."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from backbeat.bus import Batching, Delivery, StreamBus
from backbeat.bus.worker import LeasedWorker
from backbeat.domain.messages import Channel, Envelope
from backbeat.testing.bus_fixtures import MakeBus, Recorder, eventually, label, play, running

ONE, TWO = 40_000_000_000_000_000, 40_000_000_000_000_004  # both partition 0 of 4


async def _pending(bus: StreamBus, partition: int = 0) -> int:
    status = await bus.status(Channel.COMMANDS)
    groups = status.streams[partition].groups
    return groups[0].pending if groups else 0


async def _pending_is(bus: StreamBus, expected: int) -> bool:
    return await _pending(bus) == expected


def _always(_previous: Envelope, _message: Envelope) -> bool:
    return True


class BatchRecorder:
    """A batch handler recording the batches it got; the first one fails when told to."""

    def __init__(self, *, fail_first: bool = False) -> None:
        self.batches: list[list[str]] = []
        self._fail_first = fail_first

    async def __call__(self, deliveries: Sequence[Delivery]) -> None:
        self.batches.append([label(d.message) for d in deliveries])
        if self._fail_first and len(self.batches) == 1:
            raise RuntimeError("batch failed")

    def labels(self, prefix: str = "") -> list[str]:
        return [x for batch in self.batches for x in batch if x.startswith(prefix)]


async def _publish(bus: StreamBus, count: int) -> list[str]:
    labels = []
    for n in range(count):
        guild = ONE if n % 2 == 0 else TWO
        labels.append(f"{'one' if guild == ONE else 'two'}-{n}")
        await bus.publish(Channel.COMMANDS, play(guild, labels[-1]))
    return labels


async def test_a_backlog_is_handed_in_batches_in_each_guilds_order_and_acknowledged(
    bus: StreamBus,
) -> None:
    labels = await _publish(bus, 12)
    single, batches = Recorder(), BatchRecorder()
    consumer = bus.consume(
        Channel.COMMANDS,
        single,
        partitions=[0],
        consumer="a",
        batching=Batching(handler=batches, joins=_always),
    )
    async with running(consumer):
        await eventually(lambda: len(batches.labels()) == len(labels))
        await eventually(lambda: _pending_is(bus, 0))
    assert single.deliveries == []
    for prefix in ("one", "two"):
        assert batches.labels(prefix) == [x for x in labels if x.startswith(prefix)]
    assert len(batches.batches) < len(labels)  # together, not one by one
    assert any({"one", "two"} <= {x[:3] for x in batch} for batch in batches.batches)


async def test_entries_not_accepted_go_to_the_single_handler_in_their_guilds_order(
    bus: StreamBus,
) -> None:
    labels = await _publish(bus, 8)
    single, batches = Recorder(), BatchRecorder()
    odd = {x for n, x in enumerate(labels) if n % 4 == 0}  # some of guild ONE's

    def accepts(message: Envelope) -> bool:
        return label(message) not in odd

    consumer = bus.consume(
        Channel.COMMANDS,
        single,
        partitions=[0],
        consumer="a",
        batching=Batching(handler=batches, accepts=accepts, joins=_always),
    )
    async with running(consumer):
        await eventually(lambda: len(batches.labels()) + len(single.deliveries) == len(labels))
        await eventually(lambda: _pending_is(bus, 0))
    assert set(single.labels()) == odd
    assert set(batches.labels()) == set(labels) - odd


async def test_a_failed_batch_is_finished_one_at_a_time_in_order(bus: StreamBus) -> None:
    labels = await _publish(bus, 6)
    single, batches = Recorder(), BatchRecorder(fail_first=True)
    consumer = bus.consume(
        Channel.COMMANDS,
        single,
        partitions=[0],
        consumer="a",
        batching=Batching(handler=batches, joins=_always),
    )
    async with running(consumer):
        await eventually(lambda: len(single.deliveries) == len(labels))
        await eventually(lambda: _pending_is(bus, 0))
    for guild in (ONE, TWO):
        prefix = "one" if guild == ONE else "two"
        assert single.labels(guild) == [x for x in labels if x.startswith(prefix)]
    assert sorted(batches.batches[0]) == sorted(labels)


async def test_a_guild_finished_early_goes_on_while_another_of_its_batch_is_slow(
    bus: StreamBus,
) -> None:
    release = asyncio.Event()
    handed: list[str] = []

    async def handler(deliveries: Sequence[Delivery]) -> None:
        handed.extend(label(d.message) for d in deliveries)
        for delivery in deliveries:
            if delivery.message.guild_id == TWO:
                delivery.finished()
        if any(d.message.guild_id == ONE for d in deliveries):
            await release.wait()

    await bus.publish(Channel.COMMANDS, play(ONE, "one-slow"))
    await bus.publish(Channel.COMMANDS, play(TWO, "two-1"))
    consumer = bus.consume(
        Channel.COMMANDS, Recorder(), partitions=[0], consumer="a", batching=Batching(handler)
    )
    async with running(consumer):
        await eventually(lambda: handed == ["one-slow", "two-1"])
        await eventually(lambda: _pending_is(bus, 1))  # two-1 acknowledged, one-slow not
        await bus.publish(Channel.COMMANDS, play(TWO, "two-2"))
        await bus.publish(Channel.COMMANDS, play(ONE, "one-2"))
        await eventually(lambda: "two-2" in handed)
        assert "one-2" not in handed  # its guild's slow entry is still in hand
        assert await _pending(bus) == 2
        release.set()
        await eventually(lambda: "one-2" in handed)
        await eventually(lambda: _pending_is(bus, 0))


async def test_a_batch_entry_is_not_acknowledged_before_it_is_finished(bus: StreamBus) -> None:
    release, entered = asyncio.Event(), asyncio.Event()

    async def blocking(deliveries: Sequence[Delivery]) -> None:
        entered.set()
        await release.wait()

    await _publish(bus, 4)
    consumer = bus.consume(
        Channel.COMMANDS,
        Recorder(),
        partitions=[0],
        consumer="a",
        batching=Batching(handler=blocking, joins=_always),
    )
    async with running(consumer):
        await asyncio.wait_for(entered.wait(), 15)
        assert await _pending(bus) == 4
        release.set()
        await eventually(lambda: _pending_is(bus, 0))


async def test_a_leased_worker_hands_batches_under_its_token(make_bus: MakeBus) -> None:
    bus = make_bus()
    labels = await _publish(bus, 8)
    seen: list[Delivery] = []

    async def handler(deliveries: Sequence[Delivery]) -> None:
        seen.extend(deliveries)

    worker = LeasedWorker(
        bus,
        worker_id="w1",
        handlers={Channel.COMMANDS: Recorder()},
        batching={Channel.COMMANDS: Batching(handler=handler, joins=_always)},
    )
    async with running(worker):
        await eventually(lambda: len(seen) == len(labels))
        await eventually(lambda: _pending_is(bus, 0))
        assert sorted(label(d.message) for d in seen) == sorted(labels)
        tokens = worker.leases.held
        assert all(d.fence == tokens[0] for d in seen)
