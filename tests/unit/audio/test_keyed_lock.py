"""Locks by key: one lock per key while used, FIFO, gone once nobody holds or waits."""

from __future__ import annotations

import asyncio

import pytest

from backbeat.audio.guilds import Guilds
from backbeat.audio.keyed_lock import KeyedLocks


async def test_a_key_is_held_by_one_task_at_a_time_in_fifo_order() -> None:
    locks: KeyedLocks[str] = KeyedLocks()
    order: list[int] = []
    await locks.acquire("a")

    async def worker(n: int) -> None:
        async with locks.of("a"):
            order.append(n)
            await asyncio.sleep(0)

    tasks = [asyncio.create_task(worker(n)) for n in range(5)]
    for _ in range(3):
        await asyncio.sleep(0)
    assert order == []
    assert locks.locked("a")
    assert not locks.locked("b")
    locks.release("a")
    await asyncio.gather(*tasks)

    assert order == [0, 1, 2, 3, 4]
    assert len(locks) == 0  # nobody holds or waits: dropped


async def test_other_keys_do_not_wait() -> None:
    locks: KeyedLocks[int] = KeyedLocks()
    async with locks.of(1):
        async with asyncio.timeout(5):
            await locks.acquire(2)
        assert len(locks) == 2
        locks.release(2)
        assert len(locks) == 1
    assert len(locks) == 0


async def test_a_cancelled_wait_takes_nothing_and_leaves_no_entry() -> None:
    locks: KeyedLocks[str] = KeyedLocks()
    handle = locks.of("a")
    await handle.acquire()
    waiter = asyncio.create_task(handle.acquire())
    await asyncio.sleep(0)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert handle.locked()
    handle.release()
    assert not handle.locked()
    assert len(locks) == 0


async def test_a_cancel_after_the_wake_up_passes_the_lock_on() -> None:
    locks: KeyedLocks[str] = KeyedLocks()
    await locks.acquire("a")
    first = asyncio.create_task(locks.acquire("a"))
    second = asyncio.create_task(locks.acquire("a"))
    await asyncio.sleep(0)
    locks.release("a")  # wakes the first waiter, which is cancelled before it runs
    first.cancel()
    async with asyncio.timeout(5):
        assert await second is True
    with pytest.raises(asyncio.CancelledError):
        await first
    assert locks.locked("a")
    locks.release("a")
    assert len(locks) == 0


async def test_releasing_an_unheld_key_is_an_error() -> None:
    locks: KeyedLocks[str] = KeyedLocks()
    with pytest.raises(RuntimeError):
        locks.release("a")
    await locks.acquire("a")
    locks.release("a")
    with pytest.raises(RuntimeError):
        locks.of("a").release()


async def test_guild_states_share_a_table_and_a_new_state_has_its_own_lock() -> None:
    guilds = Guilds()
    state = guilds.get(1)
    other = guilds.get(2)
    await state.lock.acquire()
    assert state.lock.locked()
    assert not other.lock.locked()
    assert len(guilds.locks) == 1

    guilds.drop(1)  # a state made anew (a partition regained) is not held up by the old one
    again = guilds.get(1)
    assert again is not state
    assert not again.lock.locked()
    state.lock.release()
    assert len(guilds.locks) == 0
