"""No two workers inside a handler for one guild at once while leases move again and again.

Three worker processes join, leave (SIGTERM) and die (SIGKILL) in a seeded random loop while
messages keep arriving; every worker's event loop also stalls past the lease TTL now and then,
between two entries (``--hiccup-*``), as a loaded machine's scheduler does. A holder whose
lease lapsed in such a stall must notice before it hands the next entry to its handler.

The churn goes on until the leases have changed hands at least ``MIN_MOVES`` times (and for
at least ``CHURN_SECONDS``), bounded only by a generous ``CHURN_LIMIT_SECONDS``: a loaded
machine makes it take longer, never makes it test less.
"""

from __future__ import annotations

import asyncio
import random
import time
from pathlib import Path

import pytest
from bus_process_harness import (
    Cluster,
    Publisher,
    count,
    first_start_order,
    missing,
    overlaps,
    start_order_violations,
)

from backbeat.bus.factory import redis_bus
from backbeat.bus.interface import BusConfig
from backbeat.testing.redis_server import RedisServer

pytestmark = pytest.mark.slow

PARTITIONS = 4
GUILDS = range(2000, 2032)
WORKERS = ("audio-1", "audio-2", "audio-3")
TTL_MS = 1500
CHURN_SECONDS = 15.0  # at least this long
MIN_MOVES = 10  # and until this many changes of owned sets were recorded
CHURN_LIMIT_SECONDS = 300.0


async def test_no_two_workers_handle_one_guild_at_once_while_leases_move(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    rng = random.Random(20261201)
    cluster = Cluster(
        redis_server.url, "moves:", tmp_path, partitions=PARTITIONS, ttl_ms=TTL_MS, handle_ms=3.0
    )
    hiccups = ("--hiccup-every", "100", "--hiccup-ms", str(TTL_MS * 1.4))
    bus = redis_bus(redis_server.url, prefix="moves:", config=BusConfig(partitions=PARTITIONS))
    actions: list[str] = []
    try:
        publisher = Publisher(bus, GUILDS, chunk=10, pause=0.03, limit=len(GUILDS) * 400)
        publisher.start()
        cluster.start("audio-1", *hiccups)
        started = time.monotonic()
        while True:
            moves = count("owned", cluster.events())
            elapsed = time.monotonic() - started
            if moves >= MIN_MOVES and elapsed >= CHURN_SECONDS:
                break
            assert elapsed < CHURN_LIMIT_SECONDS, (
                f"only {moves} lease changes in {elapsed:.0f} s: {actions}"
            )
            await asyncio.sleep(rng.uniform(0.3, 1.2))
            assert not cluster.crashed(), cluster.crashed()
            running = sorted(cluster.running)
            stopped = [w for w in WORKERS if w not in running]
            if stopped and (len(running) < 2 or rng.random() < 0.5):
                chosen = rng.choice(stopped)
                cluster.start(chosen, *hiccups)
                actions.append(f"start {chosen}")
            else:
                chosen = rng.choice(running)
                if rng.random() < 0.5:
                    cluster.kill(chosen)
                    actions.append(f"kill {chosen}")
                else:
                    cluster.term(chosen)
                    actions.append(f"term {chosen}")
            if not cluster.running:
                cluster.start("audio-1", *hiccups)
                actions.append("start audio-1")
        sent = await publisher.stop()
        events = await cluster.wait_for(lambda ev: not missing(ev, sent), 120, "all handled")
        for worker in list(cluster.running):
            cluster.term(worker)
    finally:
        cluster.stop_all()
        await bus.close()

    assert count("owned", events) >= MIN_MOVES, actions  # the churn loop saw to it
    per_guild = {g: [s for gg, s in sent if gg == g] for g in GUILDS}
    assert overlaps(events, cluster.death_times()) == [], actions
    assert start_order_violations(events) == [], actions
    assert first_start_order(events) == per_guild
