"""A Redis that stops answering (SIGSTOP) fails the calls in hand after the socket timeout;
readers and taps retry and go on once it answers again (private server, never the shared one).

Without a socket timeout a call sent to a stopped Redis (or over a connection dropped without
a reset) waits forever: the checks below that reads failed while it was stopped would never
hold.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal

import pytest

from backbeat.bus.factory import redis_bus
from backbeat.bus.interface import BusConfig
from backbeat.domain.messages import Channel, Envelope
from backbeat.testing.bus_fixtures import Recorder, eventually, label, play
from backbeat.testing.redis_server import RedisServer

pytestmark = pytest.mark.slow

# claim_idle_ms: a read that timed out on the client may still have been executed by Redis
# when it woke up; what it delivered is pending under the reader, which takes it back.
CONFIG = BusConfig(
    partitions=2, shard_count=1, block_ms=100, socket_timeout_ms=1500, claim_idle_ms=1000
)
GUILDS = (300, 301)  # partitions 0 and 1


async def test_a_reader_and_a_tap_recover_after_redis_was_stopped(
    redis_server: RedisServer,
) -> None:
    publisher = redis_bus(redis_server.url, prefix="stall:", config=CONFIG)
    reading = redis_bus(redis_server.url, prefix="stall:", config=CONFIG)
    tapping = redis_bus(redis_server.url, prefix="stall:", config=CONFIG)
    handled = Recorder()
    consumer = reading.consume(Channel.COMMANDS, handled, partitions=[0, 1], consumer="c")
    tapped: list[Envelope] = []
    tap = tapping.tap(Channel.COMMANDS)
    pid = redis_server.pid
    assert pid is not None
    tasks: list[asyncio.Task[None]] = []
    stopped = False
    try:
        async with tap:

            async def collect() -> None:
                async for message in tap:
                    tapped.append(message)

            tasks += [asyncio.create_task(consumer.run()), asyncio.create_task(collect())]
            for guild in GUILDS:
                await publisher.publish(Channel.COMMANDS, play(guild, f"before-{guild}"))
            await eventually(lambda: len(handled.labels()) == 2 and len(tapped) == 2, 30)

            os.kill(pid, signal.SIGSTOP)
            stopped = True
            # Both the reader's and the tap's blocking reads time out and are retried.
            await eventually(lambda: consumer.read_failures >= 1 and tap.failed_reads >= 1, 60)
            assert not any(task.done() for task in tasks)
            os.kill(pid, signal.SIGCONT)
            stopped = False

            after = [play(GUILDS[n % 2], f"after-{n}") for n in range(20)]
            for message in after:
                await publisher.publish(Channel.COMMANDS, message)
            before = {f"before-{g}" for g in GUILDS}
            expected = before | {label(m) for m in after}
            await eventually(
                lambda: set(handled.labels()) == expected and len(tapped) == len(expected), 60
            )
            assert tap.reconnects >= 1
            assert sorted(label(m) for m in tapped) == sorted(expected)  # the tap: no repeats
            # The bus delivers at least once: an entry handled while Redis stopped, whose
            # acknowledgement then failed, is delivered again; nothing published after it is.
            labels = handled.labels()
            assert {x for x in labels if labels.count(x) > 1} <= before
            await consumer.stop()
    finally:
        if stopped:
            os.kill(pid, signal.SIGCONT)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for bus in (publisher, reading, tapping):
            await bus.close()
