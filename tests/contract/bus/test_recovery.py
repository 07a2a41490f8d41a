"""A consumer that dies mid-stream loses nothing: the next one gets every unacknowledged
message, in per-guild order, and a message that keeps killing consumers is dead-lettered.

On the in-process bus "dies" means its task is cancelled (a process crash loses the in-process
bus itself, which is at-most-once by design); on Redis the same holds across processes.
"""

from __future__ import annotations

import asyncio

from backbeat.bus import Delivery, StreamBus
from backbeat.domain.messages import Channel
from backbeat.testing.bus_fixtures import Recorder, eventually, kill, label, play, running

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
    await asyncio.wait_for(started.wait(), 5)
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
        await asyncio.wait_for(entered.wait(), 5)
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
