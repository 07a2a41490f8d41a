"""A tap keeps delivering across a Redis restart (private server, AOF ``always``)."""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict

import pytest

from backbeat.bus.factory import redis_bus
from backbeat.bus.interface import BusConfig
from backbeat.bus.streams import StreamBus, StreamTap
from backbeat.domain.messages import Channel, Envelope
from backbeat.testing.bus_fixtures import eventually, label, play
from backbeat.testing.redis_server import RedisServer

pytestmark = pytest.mark.slow

CONFIG = BusConfig(partitions=4, shard_count=1, block_ms=100)
GUILDS = range(100, 108)
#: Each test's bound: a hang fails with the awaiting line in its traceback (the suite's
#: per-test timeout shows only the event loop's selector).
BOUND_S = 150


async def stop_collecting(task: asyncio.Task[None]) -> None:
    """Cancel the collecting task and wait for it, always before the buses close. This is
    where an earlier CI run hung: on Python 3.11 the cancellation could be lost inside a Redis
    send, and the tap read on; the tap now honours a lost request (``StreamTap._messages``)."""
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def receive(
    received: list[Envelope], count: int, tap: StreamTap, server: RedisServer
) -> None:
    """Wait for ``count`` messages; on failure say what the tap and the server saw."""
    try:
        await eventually(lambda: len(received) == count, 30)
    except pytest.fail.Exception:
        log = server.log_path.read_text(errors="replace").splitlines()[-10:]
        pytest.fail(
            f"{len(received)} of {count} messages; tap failed_reads={tap.failed_reads} "
            f"reconnects={tap.reconnects}; server log:\n" + "\n".join(log)
        )


async def publish_round(bus: StreamBus, round_: str, count: int) -> list[Envelope]:
    sent: list[Envelope] = [play(GUILDS[n % len(GUILDS)], f"{round_}-{n}") for n in range(count)]
    for message in sent:
        await bus.publish(Channel.COMMANDS, message)
    return sent


async def test_tap_delivers_everything_across_a_sigkill_restart(
    redis_server: RedisServer,
) -> None:
    async with asyncio.timeout(BOUND_S):
        await across_a_sigkill_restart(redis_server)


async def across_a_sigkill_restart(redis_server: RedisServer) -> None:
    publisher = redis_bus(redis_server.url, prefix="tap:", config=CONFIG)
    reader = redis_bus(redis_server.url, prefix="tap:", config=CONFIG)
    received: list[Envelope] = []
    tap = reader.tap(Channel.COMMANDS)
    assert isinstance(tap, StreamTap)
    try:
        async with tap:

            async def collect() -> None:
                async for message in tap:
                    received.append(message)

            task = asyncio.create_task(collect())
            try:
                before = await publish_round(publisher, "before", 60)
                await receive(received, 60, tap, redis_server)

                # Down long enough for several failed reads, then back on the same port.
                await asyncio.to_thread(redis_server.stop, kill=True)
                await eventually(lambda: tap.failed_reads >= 2, 60)  # it tried, and again
                assert not task.done(), "the tap's iterator ended while Redis was down"
                await asyncio.to_thread(redis_server.start)

                after = await publish_round(publisher, "after", 60)
                await receive(received, 120, tap, redis_server)
                await asyncio.sleep(0.3)  # nothing more (no duplicates) arrives
                assert not task.done()
            finally:
                await stop_collecting(task)
    finally:
        await publisher.close()
        await reader.close()

    assert tap.reconnects >= 1
    assert sorted(m.id for m in received) == sorted(m.id for m in before + after)
    # Publish order holds per partition (one guild's messages share one).
    got: dict[int, list[str]] = defaultdict(list)
    sent: dict[int, list[str]] = defaultdict(list)
    for message in received:
        got[message.guild_id].append(label(message))
    for message in before + after:
        sent[message.guild_id].append(label(message))
    assert got == sent


async def test_entries_written_while_the_tap_was_away_survive_a_restart(
    redis_server: RedisServer,
) -> None:
    """Appended, then Redis killed before the tap read them: AOF ``always`` keeps them."""
    async with asyncio.timeout(BOUND_S):
        await written_while_away(redis_server)


async def written_while_away(redis_server: RedisServer) -> None:
    publisher = redis_bus(redis_server.url, prefix="tap2:", config=CONFIG)
    reader = redis_bus(redis_server.url, prefix="tap2:", config=CONFIG)
    received: list[Envelope] = []
    try:
        async with reader.tap(Channel.COMMANDS) as tap:
            assert isinstance(tap, StreamTap)
            sent = await publish_round(publisher, "unread", 40)
            await asyncio.to_thread(redis_server.restart, kill=True)

            async def collect() -> None:
                async for message in tap:
                    received.append(message)

            task = asyncio.create_task(collect())
            try:
                await receive(received, 40, tap, redis_server)
            finally:
                await stop_collecting(task)
    finally:
        await publisher.close()
        await reader.close()
    assert sorted(m.id for m in received) == sorted(m.id for m in sent)
