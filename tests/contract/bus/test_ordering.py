"""Two workers never hand one partition's messages to handlers at the same time, and every
guild's messages are first handled in publish order, while leases move again and again."""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict

from backbeat.bus import Delivery
from backbeat.bus.worker import LeasedWorker
from backbeat.domain.messages import Channel
from backbeat.testing.bus_fixtures import MakeBus, Recorder, eventually, label, play, running

GUILDS = [50_000_000_000_000_000 + i for i in range(12)]  # three guilds per partition


def first_seen(labels: list[str]) -> list[str]:
    """Labels in the order they were first handled (redeliveries may repeat one)."""
    return list(dict.fromkeys(labels))


async def test_no_two_workers_inside_a_partition_at_once_while_leases_move(
    make_bus: MakeBus,
) -> None:
    inside: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    busy_guilds: set[int] = set()
    partition_overlaps: list[tuple[int, str, list[str]]] = []
    guild_overlaps: list[int] = []
    handled: dict[int, list[str]] = defaultdict(list)
    by_worker: dict[str, int] = defaultdict(int)

    def handler(worker: str) -> Recorder:
        async def track(delivery: Delivery) -> None:
            guild, partition = delivery.message.guild_id, delivery.partition
            others = [w for w, n in inside[partition].items() if n and w != worker]
            if others:
                partition_overlaps.append((partition, worker, others))
            if guild in busy_guilds:
                guild_overlaps.append(guild)
            inside[partition][worker] += 1
            busy_guilds.add(guild)
            try:  # mostly quick, now and then slow: long windows for a move to hit
                slow = int(label(delivery.message).rsplit("-", 1)[1]) % 10 == 0
                await asyncio.sleep(0.15 if slow else 0.003)
            finally:
                inside[partition][worker] -= 1
                busy_guilds.discard(guild)
            handled[guild].append(label(delivery.message))
            by_worker[worker] += 1

        return Recorder(hook=track)

    def worker(name: str) -> LeasedWorker:
        return LeasedWorker(make_bus(), worker_id=name, handlers={Channel.COMMANDS: handler(name)})

    publisher = make_bus()
    sent: dict[int, list[str]] = defaultdict(list)
    stop_publishing = asyncio.Event()

    async def publish() -> None:
        n = 0
        while not stop_publishing.is_set():
            for guild in GUILDS:
                text = f"{guild}-{n}"
                await publisher.publish(Channel.COMMANDS, play(guild, text))
                sent[guild].append(text)
            n += 1
            await asyncio.sleep(0.03)

    a = worker("a")
    async with running(a):
        await eventually(lambda: a.owned == {0, 1, 2, 3})
        publishing = asyncio.create_task(publish())
        try:
            for name in ("b", "c", "b"):  # each joins (half the partitions move), then leaves
                joiner = worker(name)
                before = by_worker[name]
                async with running(joiner):
                    await eventually(lambda j=joiner: len(j.owned) == 2, seconds=30)
                    await eventually(lambda n=name, b=before: by_worker[n] > b + 10, seconds=30)
                after = by_worker["a"]
                await eventually(lambda: a.owned == {0, 1, 2, 3}, seconds=30)
                await eventually(lambda x=after: by_worker["a"] > x + 10, seconds=30)
        finally:
            stop_publishing.set()
            with contextlib.suppress(asyncio.CancelledError):
                await publishing
        total = sum(len(v) for v in sent.values())
        await eventually(lambda: sum(len(set(v)) for v in handled.values()) >= total, seconds=60)
    assert partition_overlaps == []
    assert guild_overlaps == []
    for guild in GUILDS:
        assert first_seen(handled[guild]) == sent[guild]
    assert by_worker["b"] > 0
    assert by_worker["c"] > 0
