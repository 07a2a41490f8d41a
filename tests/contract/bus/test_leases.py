"""Partition leases: exclusive ownership, expiry of a dead worker's leases, rebalancing, and
the new owner receiving the partition's messages (including those left unacknowledged)."""

from __future__ import annotations

import asyncio

from backbeat.bus import AUDIO_POOL, Delivery, StreamBus
from backbeat.bus.worker import LeasedWorker
from backbeat.domain.messages import Channel
from backbeat.testing.bus_fixtures import MakeBus, Recorder, eventually, kill, label, play, running

GUILDS = [60_000_000_000_000_000 + i for i in range(8)]  # two guilds per partition (mod 4)


async def test_a_lease_belongs_to_one_owner_until_it_expires(bus: StreamBus) -> None:
    leases = bus.lease_store(AUDIO_POOL)
    assert await leases.acquire(3, "a", 100)
    assert not await leases.acquire(3, "b", 100)
    assert await leases.renew(3, "a", 100)
    assert not await leases.renew(3, "b", 100)
    assert not await leases.release(3, "b")
    owner, left = (await leases.owners(4))[3]
    assert owner == "a"
    assert 0 < left <= 100
    await asyncio.sleep(0.15)
    assert await leases.owners(4) == {}
    assert not await leases.renew(3, "a", 100)
    assert await leases.acquire(3, "b", 100)
    assert not await leases.release(3, "a")
    assert await leases.release(3, "b")


async def test_workers_share_partitions_and_rebalance_when_one_joins_or_leaves(
    make_bus: MakeBus,
) -> None:
    changes: list[frozenset[int]] = []

    async def note(owned: frozenset[int]) -> None:
        changes.append(owned)

    a = LeasedWorker(make_bus(), worker_id="a", handlers={Channel.COMMANDS: Recorder()})
    b = LeasedWorker(
        make_bus(), worker_id="b", handlers={Channel.COMMANDS: Recorder()}, on_change=note
    )
    async with running(a):
        await eventually(lambda: a.owned == {0, 1, 2, 3})
        async with running(b):
            await eventually(lambda: len(a.owned) == 2 and len(b.owned) == 2)
            assert a.owned.isdisjoint(b.owned)
            assert a.consumers[Channel.COMMANDS].partitions == a.owned
            assert b.consumers[Channel.COMMANDS].partitions == b.owned
        assert b.owned == frozenset()
        assert changes[-1] == frozenset()
        await eventually(lambda: a.owned == {0, 1, 2, 3})


async def test_dead_workers_partitions_move_with_their_messages(make_bus: MakeBus) -> None:
    first_bus, second_bus = make_bus(), make_bus()
    stuck = asyncio.Event()

    async def hang_on_marked(delivery: Delivery) -> None:
        if label(delivery.message).endswith("stuck"):
            stuck.set()
            await asyncio.Event().wait()

    first = Recorder(hook=hang_on_marked)
    a = LeasedWorker(first_bus, worker_id="a", handlers={Channel.COMMANDS: first})
    task = asyncio.create_task(a.run())
    await eventually(lambda: a.owned == {0, 1, 2, 3})
    await first_bus.publish(Channel.COMMANDS, play(GUILDS[0], "g0-1"))
    await first_bus.publish(Channel.COMMANDS, play(GUILDS[0], "g0-2-stuck"))
    await first_bus.publish(Channel.COMMANDS, play(GUILDS[0], "g0-3"))
    await asyncio.wait_for(stuck.wait(), 5)
    await kill(task)  # no release: its leases must expire

    second = Recorder()
    b = LeasedWorker(second_bus, worker_id="b", handlers={Channel.COMMANDS: second})
    await b.leases.tick()
    assert b.owned == frozenset()  # a's leases still live
    async with running(b):
        await second_bus.publish(Channel.COMMANDS, play(GUILDS[0], "g0-4"))
        await second_bus.publish(Channel.COMMANDS, play(GUILDS[5], "g5-1"))
        await eventually(lambda: b.owned == {0, 1, 2, 3})
        await eventually(lambda: len(second.deliveries) == 4)
    assert first.labels() == ["g0-1"]
    assert second.labels(GUILDS[0]) == ["g0-2-stuck", "g0-3", "g0-4"]
    assert second.labels(GUILDS[5]) == ["g5-1"]
    redelivered = {label(d.message) for d in second.deliveries if d.redelivered}
    assert "g0-2-stuck" in redelivered


async def test_gained_partitions_are_announced_before_their_messages_are_handled(
    make_bus: MakeBus,
) -> None:
    announced: set[int] = set()
    early: list[int] = []

    async def restore(owned: frozenset[int]) -> None:
        announced.clear()
        announced.update(owned)

    async def check(delivery: Delivery) -> None:
        if delivery.partition not in announced:
            early.append(delivery.partition)

    bus = make_bus()
    for guild in GUILDS:
        await bus.publish(Channel.COMMANDS, play(guild))
    recorder = Recorder(hook=check)
    worker = LeasedWorker(
        bus, worker_id="a", handlers={Channel.COMMANDS: recorder}, on_change=restore
    )
    async with running(worker):
        await eventually(lambda: len(recorder.deliveries) == len(GUILDS))
    assert early == []


async def test_a_stuck_handler_does_not_keep_a_partition_from_moving(make_bus: MakeBus) -> None:
    guild = GUILDS[3]  # partition 3: the one a gives up when b joins
    stuck = asyncio.Event()

    async def hang(delivery: Delivery) -> None:
        stuck.set()
        await asyncio.Event().wait()

    a = LeasedWorker(make_bus(), worker_id="a", handlers={Channel.COMMANDS: Recorder(hook=hang)})
    second = Recorder()
    b = LeasedWorker(make_bus(), worker_id="b", handlers={Channel.COMMANDS: second})
    async with running(a):
        await eventually(lambda: a.owned == {0, 1, 2, 3})
        await a.leases.tick()
        await make_bus().publish(Channel.COMMANDS, play(guild, "hangs-on-a"))
        await asyncio.wait_for(stuck.wait(), 5)
        async with running(b):
            await eventually(lambda: 3 in b.owned)
            await eventually(lambda: second.labels() == ["hangs-on-a"])
        assert second.deliveries[0].redelivered


async def test_a_stalled_worker_finds_its_leases_lost_and_stops_consuming_them(
    make_bus: MakeBus,
) -> None:
    told: list[frozenset[int]] = []

    async def note(owned: frozenset[int]) -> None:
        told.append(owned)

    a = LeasedWorker(
        make_bus(), worker_id="a", handlers={Channel.COMMANDS: Recorder()}, on_change=note
    )
    b = LeasedWorker(make_bus(), worker_id="b", handlers={Channel.COMMANDS: Recorder()})
    await a.leases.tick()
    assert a.owned == {0, 1, 2, 3}
    await asyncio.sleep(0.45)  # a stalls past the 400 ms TTL
    await b.leases.tick()
    assert b.owned == {0, 1, 2, 3}
    await a.leases.tick()  # renewals fail: a learns before doing anything else
    assert told[-1] == frozenset()
    assert a.consumers[Channel.COMMANDS].partitions == frozenset()
    assert a.owned.isdisjoint(b.owned)
    await b.leases.stop()
