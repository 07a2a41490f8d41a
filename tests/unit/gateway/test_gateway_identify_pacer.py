"""Identify pacing in one process (the memory store): shards of one concurrency bucket wait
for each other's lease, shards of different buckets do not, and the first never waits."""

from __future__ import annotations

import asyncio

import pytest

from backbeat.cache import CacheKeys, MemoryCacheStore
from backbeat.gateway.identify import IdentifyPacer
from backbeat.observability.metrics import REGISTRY


async def _two() -> int:
    return 2


async def test_one_bucket_waits_for_the_lease_other_buckets_do_not() -> None:
    pacer = IdentifyPacer(MemoryCacheStore(), CacheKeys("t:"), _two, interval_s=0.2)
    await pacer.wait(0)
    await pacer.wait(1)  # bucket 1: free
    assert pacer.waited_s == 0
    before = REGISTRY.get_sample_value("gateway_identify_wait_seconds_total") or 0.0
    await pacer.wait(2)  # bucket 0 again: waits out shard 0's lease
    assert 0 < pacer.waited_s <= 0.2 + 0.05
    after = REGISTRY.get_sample_value("gateway_identify_wait_seconds_total") or 0.0
    assert after - before == pytest.approx(pacer.waited_s)


async def test_concurrent_shards_of_one_bucket_take_turns() -> None:
    store = MemoryCacheStore()
    pacer = IdentifyPacer(store, CacheKeys(), _two, interval_s=0.1)
    order: list[int] = []

    async def shard(shard_id: int) -> None:
        await pacer.wait(shard_id)
        order.append(shard_id)

    await asyncio.gather(shard(0), shard(2), shard(4))
    assert sorted(order) == [0, 2, 4]
    assert pacer.waited_s >= 0.1  # two of them waited for a lease


async def test_zero_interval_never_waits_and_an_unknown_concurrency_is_one() -> None:
    async def broken() -> int:
        raise OSError("no /gateway/bot")

    pacer = IdentifyPacer(MemoryCacheStore(), CacheKeys(), broken, interval_s=0)
    await pacer.wait(0)
    await pacer.wait(0)
    assert pacer.waited_s == 0
    assert await pacer.max_concurrency() == 1
