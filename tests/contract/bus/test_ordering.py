"""Two workers never handle one guild's commands at the same time or out of order, even while
partitions move between them."""

from __future__ import annotations

import asyncio
from collections import defaultdict

from backbeat.bus import Delivery
from backbeat.bus.worker import LeasedWorker
from backbeat.domain.messages import Channel
from backbeat.testing.bus_fixtures import MakeBus, Recorder, eventually, label, play, running

GUILDS = [50_000_000_000_000_000 + i for i in range(12)]
PER_GUILD = 30


async def test_two_workers_never_interleave_one_guilds_commands(make_bus: MakeBus) -> None:
    active: set[int] = set()
    overlaps: list[int] = []
    handled: dict[int, list[str]] = defaultdict(list)
    by_worker: dict[str, int] = defaultdict(int)

    def handler(worker: str) -> Recorder:
        async def track(delivery: Delivery) -> None:
            guild = delivery.message.guild_id
            if guild in active:
                overlaps.append(guild)
            active.add(guild)
            await asyncio.sleep(0.002)
            active.discard(guild)
            handled[guild].append(label(delivery.message))
            by_worker[worker] += 1

        return Recorder(hook=track)

    publisher = make_bus()
    a = LeasedWorker(make_bus(), worker_id="a", handlers={Channel.COMMANDS: handler("a")})
    b = LeasedWorker(make_bus(), worker_id="b", handlers={Channel.COMMANDS: handler("b")})
    sent = {guild: [f"{guild}-{n}" for n in range(PER_GUILD)] for guild in GUILDS}

    async def publish(rounds: range, pause: float = 0.005) -> None:
        for n in rounds:
            for guild in GUILDS:
                await publisher.publish(Channel.COMMANDS, play(guild, sent[guild][n]))
            await asyncio.sleep(pause)

    total = len(GUILDS) * PER_GUILD
    async with running(a):
        await eventually(lambda: len(a.owned) == 4)
        await publish(range(10))
        async with running(b):  # b joins: half the partitions move to it mid-stream
            publishing = asyncio.create_task(publish(range(10, 20), pause=0.05))
            await eventually(lambda: len(b.owned) == 2)
            await publishing
            await eventually(lambda: by_worker["b"] > 0)
        await publish(range(20, PER_GUILD))  # b leaves: a takes everything back
        await eventually(lambda: sum(len(v) for v in handled.values()) >= total, seconds=15)
    assert overlaps == []
    for guild in GUILDS:
        assert handled[guild] == sent[guild]
    assert by_worker["a"] > 0
    assert by_worker["b"] > 0
