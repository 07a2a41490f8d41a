"""Take-back in stream order with real worker processes killed by SIGKILL (private Redis).

Each worker is a subprocess running a ``LeasedWorker`` with a stable id; its handler records
starts and ends in an append-only file (see ``bus_worker_process.py``). The checks: every
guild's messages are first handled in publish order, no handler start ever goes back to an
older message of its guild, none is lost, and no two workers are inside one guild at once.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from bus_process_harness import (
    Cluster,
    Publisher,
    count,
    first_start_order,
    missing,
    overlaps,
    plan,
    publish,
    start_order_violations,
)

from backbeat.bus.factory import redis_bus
from backbeat.bus.interface import BusConfig
from backbeat.bus.streams import StreamBus
from backbeat.testing.redis_server import RedisServer

pytestmark = pytest.mark.slow

PARTITIONS = 4
GUILDS = range(1000, 1048)  # 12 guilds per partition


@contextlib.asynccontextmanager
async def cluster_and_bus(
    server: RedisServer, directory: Path, prefix: str, *, handle_ms: float
) -> AsyncIterator[tuple[Cluster, StreamBus]]:
    cluster = Cluster(server.url, prefix, directory, partitions=PARTITIONS, handle_ms=handle_ms)
    bus = redis_bus(server.url, prefix=prefix, config=BusConfig(partitions=PARTITIONS))
    try:
        yield cluster, bus
    finally:
        cluster.stop_all()
        await bus.close()


def owns(worker: str, how_many: int | None = None) -> Callable[[list[dict[str, Any]]], bool]:
    """Condition: the last ``owned`` record of ``worker`` (a life) holds partitions."""

    def check(events: list[dict[str, Any]]) -> bool:
        owned = [e["partitions"] for e in events if e["k"] == "owned" and e["life"] == worker]
        if not owned:
            return False
        last = owned[-1]
        assert isinstance(last, list)
        return len(last) == how_many if how_many is not None else bool(last)

    return check


async def test_take_back_after_two_crashes_handles_every_guild_in_publish_order(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    """The issue's sequence with 48 guilds and 2880 messages.

    ``audio-1`` reads batches and handles some, then is killed -9 (the rest of its batches
    pending under ``audio-1``); ``audio-2`` takes the partitions over, its handlers hang from
    its 12th message on (one taken-back entry held in each partition, pending under
    ``audio-2``) and it is killed -9; ``audio-1`` comes back under its own id and must handle
    both workers' leftovers oldest first.
    """
    sent = plan(GUILDS, 60)
    async with cluster_and_bus(redis_server, tmp_path, "tb1:", handle_ms=1.0) as (cluster, bus):
        await publish(bus, sent)
        cluster.start("audio-1")
        await cluster.wait_for(lambda ev: count("end", ev) >= 300, 90, "audio-1 handles 300")
        cluster.kill("audio-1")

        cluster.start("audio-2", "--freeze-after", "12")
        await cluster.wait_for(
            lambda ev: count("frozen", ev, "audio-2.0") >= PARTITIONS,
            90,
            "audio-2 holds one taken-back entry in each partition",
        )
        cluster.kill("audio-2")

        cluster.start("audio-1")
        events = await cluster.wait_for(lambda ev: not missing(ev, sent), 120, "all handled")
        cluster.term("audio-1")

    assert count("start", events, "audio-1.1") > 0
    assert start_order_violations(events) == []
    assert first_start_order(events) == {g: list(range(1, 61)) for g in GUILDS}
    assert overlaps(events, cluster.death_times()) == []


async def test_a_partition_moving_a_b_a_keeps_publish_order(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    """A owns everything; B joins and takes half, is stopped (SIGTERM) in its take-back,
    A takes back; B joins again, hangs holding taken-back entries and is killed -9; A takes
    back again.

    Messages arrive faster than the workers handle them until the last move, so A holds
    read batches whenever partitions move and B always has something to take back.
    """
    async with cluster_and_bus(redis_server, tmp_path, "tb2:", handle_ms=5.0) as (cluster, bus):
        publisher = Publisher(bus, GUILDS, limit=48 * 1000)  # runs until stopped
        publisher.start()
        cluster.start("audio-a")
        await cluster.wait_for(owns("audio-a.0", PARTITIONS), 60, "audio-a owns everything")
        await cluster.wait_for(lambda ev: count("end", ev) >= 100, 60, "audio-a handles 100")

        cluster.start("audio-b")
        await cluster.wait_for(owns("audio-b.0"), 60, "audio-b gets partitions")
        await cluster.wait_for(
            lambda ev: count("start", ev, "audio-b.0") >= 5, 60, "audio-b handles"
        )
        cluster.term("audio-b")
        await cluster.wait_for(owns("audio-a.0", PARTITIONS), 60, "audio-a takes back")

        cluster.start("audio-b", "--freeze-after", "5")
        await cluster.wait_for(owns("audio-b.1"), 60, "audio-b gets partitions again")
        await cluster.wait_for(
            lambda ev: count("frozen", ev, "audio-b.1") >= 2, 60, "audio-b holds entries"
        )
        cluster.kill("audio-b")

        sent = await publisher.stop()
        events = await cluster.wait_for(lambda ev: not missing(ev, sent), 120, "all handled")
        cluster.term("audio-a")

    per_guild = {g: [s for gg, s in sent if gg == g] for g in GUILDS}
    assert start_order_violations(events) == []
    assert first_start_order(events) == per_guild
    assert overlaps(events, cluster.death_times()) == []
