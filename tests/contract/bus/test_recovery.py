"""A consumer that dies mid-stream loses nothing: the next one gets every unacknowledged
message, in per-guild order, and a message that keeps killing consumers is dead-lettered.

On the in-process bus "dies" means its task is cancelled (a process crash loses the in-process
bus itself, which is at-most-once by design); on Redis the same holds across processes.
"""

from __future__ import annotations

import asyncio
import dataclasses

from backbeat.bus import Delivery, StreamBus
from backbeat.domain.messages import Channel
from backbeat.testing.bus_fixtures import (
    FAST_CONFIG,
    MakeBus,
    Recorder,
    eventually,
    kill,
    label,
    play,
    running,
)

GUILDS = [90_000_000_000_000_000 + i for i in range(4)]  # one guild per partition (mod 4)


async def test_killed_consumer_loses_nothing_and_order_holds(bus: StreamBus) -> None:
    sent = {guild: [f"{guild}-{n}" for n in range(7)] for guild in GUILDS}
    stuck_on = sent[GUILDS[1]][2]
    blocked = asyncio.Event()

    async def block(delivery: Delivery) -> None:
        if label(delivery.message) == stuck_on:
            blocked.set()
            await asyncio.Event().wait()  # hangs until the consumer is killed

    for n in range(5):
        for guild in GUILDS:
            await bus.publish(Channel.COMMANDS, play(guild, sent[guild][n]))
    first = Recorder(hook=block)
    consumer = bus.consume(Channel.COMMANDS, first, partitions=range(4), consumer="first")
    task = asyncio.create_task(consumer.run())
    await eventually(lambda: blocked.is_set() and len(first.deliveries) == 17)
    await kill(task)
    for n in (5, 6):
        for guild in GUILDS:
            await bus.publish(Channel.COMMANDS, play(guild, sent[guild][n]))

    second = Recorder()
    successor = bus.consume(Channel.COMMANDS, second, partitions=range(4), consumer="second")
    async with running(successor):
        await eventually(lambda: len(second.deliveries) == 28 - 17)
    for guild in GUILDS:
        assert first.labels(guild) + second.labels(guild) == sent[guild]
    redelivered = [label(d.message) for d in second.deliveries if d.redelivered]
    assert stuck_on in redelivered


async def test_restarted_consumer_of_the_same_name_takes_back_its_pending(bus: StreamBus) -> None:
    guild = GUILDS[0]
    started = asyncio.Event()

    async def hang(delivery: Delivery) -> None:
        started.set()
        await asyncio.Event().wait()

    task = asyncio.create_task(
        bus.consume(Channel.COMMANDS, Recorder(hook=hang), partitions=[0], consumer="gw-0").run()
    )
    await bus.publish(Channel.COMMANDS, play(guild, "in-flight"))
    await asyncio.wait_for(started.wait(), 15)
    await kill(task)
    again = Recorder()
    async with running(bus.consume(Channel.COMMANDS, again, partitions=[0], consumer="gw-0")):
        await eventually(lambda: again.labels() == ["in-flight"])
    assert again.deliveries[0].deliveries == 2


async def test_message_killing_every_consumer_is_dead_lettered_after_max_deliveries(
    bus: StreamBus,
) -> None:
    guild = GUILDS[2]
    partition = bus.config.partition_of(Channel.COMMANDS, guild)
    await bus.publish(Channel.COMMANDS, play(guild, "poison"))
    await bus.publish(Channel.COMMANDS, play(guild, "fine"))
    for attempt in range(bus.config.max_deliveries):
        entered = asyncio.Event()

        async def crash(delivery: Delivery, entered: asyncio.Event = entered) -> None:
            entered.set()
            await asyncio.Event().wait()

        consumer = bus.consume(
            Channel.COMMANDS,
            Recorder(hook=crash),
            partitions=[partition],
            consumer=f"victim-{attempt}",
            exclusive=True,
        )
        task = asyncio.create_task(consumer.run())
        await asyncio.wait_for(entered.wait(), 15)
        await kill(task)

    survivor = Recorder()
    consumer = bus.consume(
        Channel.COMMANDS, survivor, partitions=[partition], consumer="survivor", exclusive=True
    )
    async with running(consumer):
        await eventually(lambda: survivor.labels() == ["fine"])
    dead = await bus.dead_letters(Channel.COMMANDS)
    assert [(d.reason, d.deliveries) for d in dead] == [
        ("max_deliveries", bus.config.max_deliveries + 1)
    ]


def _hang_on(labels: set[str], entered: asyncio.Event) -> Recorder:
    async def hook(delivery: Delivery) -> None:
        if label(delivery.message) in labels:
            entered.set()
            await asyncio.Event().wait()

    return Recorder(hook=hook)


async def test_take_back_handles_every_consumers_pending_entries_in_stream_order(
    bus: StreamBus,
) -> None:
    """1, 2 handled by A; 3, 4, 5 left pending under A; B takes 3 back and dies with it (3 now
    pending under B); A, restarted under its own name, must handle 3, 4, 5 in that order."""
    guild = GUILDS[0]
    partition = bus.config.partition_of(Channel.COMMANDS, guild)
    for n in range(1, 6):
        await bus.publish(Channel.COMMANDS, play(guild, f"m{n}"))

    def exclusive(recorder: Recorder, name: str) -> asyncio.Task[None]:
        consumer = bus.consume(
            Channel.COMMANDS, recorder, partitions=[partition], consumer=name, exclusive=True
        )
        return asyncio.create_task(consumer.run())

    entered = asyncio.Event()
    a = _hang_on({"m3"}, entered)
    task = exclusive(a, "A")
    await asyncio.wait_for(entered.wait(), 15)
    await kill(task)
    assert a.labels() == ["m1", "m2"]
    pending = await bus.store.pending(bus.keys.stream(Channel.COMMANDS, partition), "audio")
    assert [(p.consumer, p.deliveries) for p in pending] == [("A", 1)] * 3

    entered = asyncio.Event()
    task = exclusive(_hang_on({"m3"}, entered), "B")
    await asyncio.wait_for(entered.wait(), 15)
    await kill(task)
    pending = await bus.store.pending(bus.keys.stream(Channel.COMMANDS, partition), "audio")
    assert [(p.consumer, p.deliveries) for p in pending] == [("B", 2), ("A", 1), ("A", 1)]

    again = Recorder()
    consumer = bus.consume(
        Channel.COMMANDS, again, partitions=[partition], consumer="A", exclusive=True
    )
    async with running(consumer):
        await bus.publish(Channel.COMMANDS, play(guild, "m6"))
        await eventually(lambda: len(again.deliveries) == 4)
    assert again.labels() == ["m3", "m4", "m5", "m6"]
    # Only the entry in a handler's hands when its consumer died gained deliveries.
    assert [d.deliveries for d in again.deliveries] == [3, 2, 2, 1]


async def test_a_partition_moving_a_to_b_to_a_keeps_stream_order(make_bus: MakeBus) -> None:
    """A loses the partition while a handler is stuck (3, 4 queued), B takes 2 back and is
    stopped while its handler is stuck on it; A, given the partition again, handles 2, 3, 4."""
    bus = make_bus(dataclasses.replace(FAST_CONFIG, lease_ttl_ms=600))  # 300 ms stop grace
    guild = GUILDS[1]
    partition = bus.config.partition_of(Channel.COMMANDS, guild)
    for n in range(1, 5):
        await bus.publish(Channel.COMMANDS, play(guild, f"m{n}"))
    stuck = {"A": True, "B": True}
    entered = {"A": asyncio.Event(), "B": asyncio.Event()}

    def recorder(name: str) -> Recorder:
        async def hook(delivery: Delivery) -> None:
            if label(delivery.message) == "m2" and stuck[name]:
                entered[name].set()
                await asyncio.Event().wait()

        return Recorder(hook=hook)

    a_seen, b_seen = recorder("A"), recorder("B")
    a = bus.consume(Channel.COMMANDS, a_seen, partitions=[partition], consumer="A", exclusive=True)
    b = bus.consume(Channel.COMMANDS, b_seen, partitions=[], consumer="B", exclusive=True)
    async with running(a), running(b):
        await asyncio.wait_for(entered["A"].wait(), 15)
        await a.assign([])  # the partition moves away from A: its stuck handler is abandoned
        stuck["A"] = False
        await b.assign([partition])
        await asyncio.wait_for(entered["B"].wait(), 15)
        await b.assign([])  # and away from B, which holds entry 2 claimed
        await a.assign([partition])
        await bus.publish(Channel.COMMANDS, play(guild, "m5"))
        await eventually(lambda: len(a_seen.deliveries) == 5)
    assert a_seen.labels() == ["m1", "m2", "m3", "m4", "m5"]
    assert b_seen.labels() == []
