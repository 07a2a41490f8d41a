"""Partition leases: one owner at a time with rising fencing tokens, expiry of a dead worker's
leases, rebalancing, renewal independent of ``on_change``, and the new owner receiving the
partition's messages (including those left unacknowledged)."""

from __future__ import annotations

import asyncio
import time

from backbeat.bus import AUDIO_POOL, Delivery, StreamBus
from backbeat.bus.worker import LeasedWorker
from backbeat.domain.messages import Channel
from backbeat.testing.bus_fixtures import MakeBus, Recorder, eventually, kill, label, play, running

GUILDS = [60_000_000_000_000_000 + i for i in range(8)]  # two guilds per partition (mod 4)


async def test_a_lease_belongs_to_one_owner_and_each_acquisition_gets_a_higher_token(
    bus: StreamBus,
) -> None:
    leases = bus.lease_store(AUDIO_POOL)
    wall_ms = time.time_ns() // 1_000_000
    token = await leases.acquire(3, "a", 60_000)
    assert token is not None
    assert token >= wall_ms - 5_000
    assert await leases.acquire(3, "b", 60_000) is None
    assert await leases.renew(3, "a", token, 60_000)
    assert not await leases.renew(3, "b", token, 60_000)
    assert not await leases.renew(3, "a", token + 1, 60_000)
    assert not await leases.release(3, "b", token)
    assert not await leases.release(3, "a", token - 1)
    assert await leases.holds(3, "a", token)
    assert not await leases.holds(3, "a", token - 1)
    owner, left = (await leases.owners(4))[3]
    assert owner == "a"
    assert 0 < left <= 60_000

    short = await leases.acquire(2, "a", 50)
    assert short is not None
    await eventually(lambda: _free(bus, 2))
    assert not await leases.renew(2, "a", short, 60_000)
    assert not await leases.holds(2, "a", short)
    taken = await leases.acquire(2, "b", 60_000)
    assert taken is not None
    assert taken > short
    assert not await leases.release(2, "a", short)
    assert await leases.release(2, "b", taken)
    again = await leases.acquire(2, "a", 60_000)
    assert again is not None
    assert again > taken
    assert await leases.release(2, "a", again)
    assert await leases.release(3, "a", token)


async def _free(bus: StreamBus, partition: int) -> bool:
    return partition not in await bus.lease_store(AUDIO_POOL).owners(4)


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
        await eventually(lambda: a.owned == {0, 1, 2, 3} and a.leases.settled)
        async with running(b):
            await eventually(lambda: len(a.owned) == 2 and len(b.owned) == 2)
            await eventually(lambda: a.leases.settled and b.leases.settled)
            assert a.owned.isdisjoint(b.owned)
            assert a.consumers[Channel.COMMANDS].partitions == a.owned == a.consuming
            assert b.consumers[Channel.COMMANDS].partitions == b.owned == b.consuming
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
    await eventually(lambda: a.owned == {0, 1, 2, 3} and a.leases.settled)
    await first_bus.publish(Channel.COMMANDS, play(GUILDS[0], "g0-1"))
    await first_bus.publish(Channel.COMMANDS, play(GUILDS[0], "g0-2-stuck"))
    await first_bus.publish(Channel.COMMANDS, play(GUILDS[0], "g0-3"))
    await asyncio.wait_for(stuck.wait(), 15)
    await kill(task)  # no release: its leases must expire
    assert (await second_bus.lease_store(AUDIO_POOL).owners(4)).keys() == {0, 1, 2, 3}

    second = Recorder()
    b = LeasedWorker(second_bus, worker_id="b", handlers={Channel.COMMANDS: second})
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
    fences = {d.fence for d in second.deliveries if d.partition == 0}
    assert len(fences) == 1
    assert None not in fences


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
    for delivery in recorder.deliveries:
        assert delivery.fence is not None
        assert delivery.still_current() is False  # the worker stopped: leases released


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
        await eventually(lambda: a.owned == {0, 1, 2, 3} and a.leases.settled)
        await make_bus().publish(Channel.COMMANDS, play(guild, "hangs-on-a"))
        await asyncio.wait_for(stuck.wait(), 15)
        async with running(b):
            await eventually(lambda: 3 in b.owned)
            await eventually(lambda: second.labels() == ["hangs-on-a"])
        assert second.deliveries[0].redelivered


async def test_a_stalled_holder_loses_its_token_once_another_worker_acquired(
    make_bus: MakeBus,
) -> None:
    """No sleeping for a fixed time: b acquiring at all proves a's lease expired in the store,
    which expires later than a's local validity, so a's guard must already refuse."""
    told: list[frozenset[int]] = []

    async def note(owned: frozenset[int]) -> None:
        told.append(owned)

    ttl_ms = 300
    a = LeasedWorker(
        make_bus(),
        worker_id="a",
        handlers={Channel.COMMANDS: Recorder()},
        on_change=note,
        ttl_ms=ttl_ms,
    )
    b = LeasedWorker(
        make_bus(), worker_id="b", handlers={Channel.COMMANDS: Recorder()}, ttl_ms=ttl_ms
    )
    await a.leases.tick()
    await a.leases.reconcile()
    assert a.owned == {0, 1, 2, 3}
    assert told[-1] == {0, 1, 2, 3}
    tokens = a.leases.held  # what a was handing under

    async def b_owns_all() -> bool:  # a stalls: it does not tick meanwhile
        await b.leases.tick()
        return b.owned == {0, 1, 2, 3}

    await eventually(b_owns_all)
    for partition in range(4):
        assert a.leases.token(partition) is None
        assert not await a.leases.verify(partition, tokens[partition])
        assert b.leases.token(partition) is not None
        assert b.leases.token(partition) > tokens[partition]  # type: ignore[operator]
    await a.leases.tick()  # renewals fail: a learns it lost them
    assert a.owned == frozenset()
    await a.leases.reconcile()
    assert told[-1] == frozenset()
    assert a.consumers[Channel.COMMANDS].partitions == frozenset()
    await b.leases.stop()


async def test_a_slow_on_change_does_not_let_leases_lapse(make_bus: MakeBus) -> None:
    ttl_ms = 3000  # renewed every second: only an event-loop stall of 2 s would lapse one
    seen_inside: list[dict[int, int | None]] = []

    worker: LeasedWorker

    async def slow_restore(owned: frozenset[int]) -> None:
        if owned and not seen_inside:
            await asyncio.sleep(2.7 * ttl_ms / 1000)  # a restore longer than the TTL
            seen_inside.append({p: worker.leases.token(p) for p in owned})

    worker = LeasedWorker(
        make_bus(),
        worker_id="a",
        handlers={Channel.COMMANDS: Recorder()},
        on_change=slow_restore,
        ttl_ms=ttl_ms,
    )
    async with running(worker):
        await eventually(lambda: bool(seen_inside))
        tokens = seen_inside[0]
        assert set(tokens) == {0, 1, 2, 3}
        for partition, token in tokens.items():
            assert token is not None
            assert await worker.leases.verify(partition, token)  # held all along, never lapsed
            assert worker.leases.held[partition] == token


async def test_partitions_move_within_a_poll_when_a_worker_joins_or_stops(
    make_bus: MakeBus,
) -> None:
    # Lease rounds every 20 s: without the pool-change signal partitions would move only at
    # the next round, up to 20 s later; with it they move within a poll.
    ttl_ms = 60_000
    a = LeasedWorker(
        make_bus(), worker_id="a", handlers={Channel.COMMANDS: Recorder()}, ttl_ms=ttl_ms
    )
    b = LeasedWorker(
        make_bus(), worker_id="b", handlers={Channel.COMMANDS: Recorder()}, ttl_ms=ttl_ms
    )
    async with running(a):
        await eventually(lambda: a.owned == {0, 1, 2, 3} and a.leases.settled)
        task = asyncio.create_task(b.run())
        try:
            # b joining prompts a's round at once, a's release prompts b's
            joined = time.monotonic()
            await eventually(lambda: len(a.owned) == 2 and len(b.owned) == 2, seconds=15)
            assert time.monotonic() - joined < 3
            await b.stop()
            stopped = time.monotonic()
            await eventually(lambda: a.owned == {0, 1, 2, 3}, seconds=15)
            assert time.monotonic() - stopped < 3
        finally:
            await kill(task)
