"""The lease guard's timing on an injected clock: a token only while a third of the TTL is
left locally, lost at once when releasing, and refused after another worker acquired."""

from __future__ import annotations

import redis.asyncio as aioredis

from backbeat.bus import AUDIO_POOL, BusConfig, redis_bus
from backbeat.bus.leases import MemoryLeaseStore, PartitionLeases
from backbeat.testing.bus_fixtures import ManualClock

TTL_MS = 3000


def leases(store: MemoryLeaseStore, worker: str, told: list[frozenset[int]]) -> PartitionLeases:
    async def note(owned: frozenset[int]) -> None:
        told.append(owned)

    return PartitionLeases(store, partitions=2, worker_id=worker, ttl_ms=TTL_MS, on_change=note)


async def test_the_token_is_given_only_while_a_third_of_the_ttl_remains() -> None:
    clock = ManualClock()
    told: list[frozenset[int]] = []
    a = leases(MemoryLeaseStore(clock=clock), "a", told)
    await a.tick()
    token = a.held[0]
    assert a.token(0) == token
    assert told == []  # applying the change is the reconcile task's job, not the tick's
    clock.advance(1.999)
    assert a.token(0) == token
    clock.advance(0.002)  # less than 1 s (a third of 3 s) left
    assert a.token(0) is None
    assert await a.verify(0, token)  # the store still has it: only the local margin is gone
    await a.tick()  # renewed: valid until now + 3 s
    assert a.token(0) == token
    clock.advance(2.01)
    assert a.token(0) is None


async def test_a_stalled_holder_is_refused_after_another_acquired() -> None:
    clock = ManualClock()
    store = MemoryLeaseStore(clock=clock)
    a, b = leases(store, "a", []), leases(store, "b", [])
    await a.tick()
    old = a.held
    assert set(old) == {0, 1}
    clock.advance(3.0)  # a's loop is blocked for a whole TTL
    await b.tick()
    assert set(b.held) == {0, 1}
    for partition in (0, 1):
        assert a.token(partition) is None
        assert not await a.verify(partition, old[partition])
        assert b.held[partition] > old[partition]
    await a.tick()
    assert a.held == {}


async def test_releasing_withdraws_the_token_at_once_and_renews_until_released() -> None:
    clock = ManualClock()
    store = MemoryLeaseStore(clock=clock)
    told: list[frozenset[int]] = []
    a = leases(store, "a", told)
    await a.tick()
    await a.reconcile()
    assert told == [frozenset({0, 1})]
    await store.heartbeat("b", TTL_MS)  # b joins: a's target becomes one partition
    await a.tick()
    assert a.owned == {0}
    assert a.token(1) is None  # releasing: no more handing
    assert set(a.held) == {0, 1}  # but still held (and renewed) until its consumers stopped
    clock.advance(2.5)
    await store.heartbeat("b", TTL_MS)
    await a.tick()
    assert await a.verify(1, a.held[1])
    await a.reconcile()
    assert told[-1] == frozenset({0})
    assert set(a.held) == {0}
    assert 1 not in await store.owners(2)


async def test_tokens_keep_rising_when_the_store_forgets_everything() -> None:
    first = await MemoryLeaseStore().acquire(0, "a", TTL_MS)
    second = await MemoryLeaseStore().acquire(0, "a", TTL_MS)  # a restarted process
    assert first is not None
    assert second is not None
    assert second >= first


async def test_redis_fence_keys_never_expire(redis_url: str, redis_key_prefix: str) -> None:
    bus = redis_bus(redis_url, prefix=redis_key_prefix, config=BusConfig(partitions=1))
    client = aioredis.Redis.from_url(redis_url)
    try:
        store = bus.lease_store(AUDIO_POOL)
        token = await store.acquire(0, "a", TTL_MS)
        assert token is not None
        fence = bus.keys.fence(AUDIO_POOL, 0)
        assert int(await client.get(fence)) == token
        assert await client.pttl(fence) == -1
        lease = await client.get(bus.keys.lease(AUDIO_POOL, 0))
        assert lease == f"a|{token}".encode()
        assert await store.release(0, "a", token)
        await client.delete(fence)  # the store lost its data: tokens still rise (clock-based)
        again = await store.acquire(0, "a", TTL_MS)
        assert again is not None
        assert again >= token
    finally:
        await client.aclose()
        await bus.close()


async def test_a_lease_lost_and_acquired_again_is_reported_as_lost_then_gained() -> None:
    clock = ManualClock()
    told: list[frozenset[int]] = []
    a = leases(MemoryLeaseStore(clock=clock), "a", told)
    await a.tick()
    await a.reconcile()
    first = a.held
    clock.advance(3.0)  # a stall past the TTL; nobody else took the partitions
    await a.tick()  # expired, then acquired again in the same round: new tokens
    assert set(a.held) == {0, 1}
    assert all(a.held[p] > first[p] for p in (0, 1))
    await a.reconcile()
    assert told == [frozenset({0, 1}), frozenset(), frozenset({0, 1})]
    await a.reconcile()
    assert len(told) == 3  # nothing changed since
