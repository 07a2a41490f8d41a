"""Redis specifics: a consumer outlives its stream and group being deleted (FLUSH, manual
cleanup) and stream length is capped."""

from __future__ import annotations

import redis.asyncio as aioredis

from backbeat.bus import BusConfig, redis_bus
from backbeat.bus.redis_store import RedisStreamStore
from backbeat.domain.messages import Channel
from backbeat.testing.bus_fixtures import Recorder, eventually, play, running


async def test_consumer_recreates_its_group_after_the_stream_was_deleted(
    redis_url: str, redis_key_prefix: str
) -> None:
    bus = redis_bus(redis_url, prefix=redis_key_prefix, config=BusConfig(partitions=1, block_ms=50))
    client = aioredis.Redis.from_url(redis_url)
    try:
        recorder = Recorder()
        async with running(bus.consume(Channel.COMMANDS, recorder, partitions=[0], consumer="a")):
            await bus.publish(Channel.COMMANDS, play(5, "first"))
            await eventually(lambda: recorder.labels() == ["first"])
            await client.delete(bus.keys.stream(Channel.COMMANDS, 0))
            await bus.publish(Channel.COMMANDS, play(5, "after-delete"))
            await eventually(lambda: recorder.labels() == ["first", "after-delete"])
    finally:
        await client.aclose()
        await bus.close()


async def test_streams_are_capped_near_maxlen(redis_url: str, redis_key_prefix: str) -> None:
    bus = redis_bus(redis_url, prefix=redis_key_prefix, config=BusConfig(partitions=1, maxlen=100))
    try:
        for n in range(1000):
            await bus.publish(Channel.COMMANDS, play(5, f"m{n}"))
        length = (await bus.status(Channel.COMMANDS)).streams[0].length
        assert 100 <= length < 300
    finally:
        await bus.close()


async def test_pending_lists_every_entry_in_id_order_across_pages(
    redis_url: str, redis_key_prefix: str
) -> None:
    store = RedisStreamStore.from_url(redis_url)
    stream = f"{redis_key_prefix}pending-pages"
    try:
        ids = [await store.append(stream, b"x", 10_000) for _ in range(1_200)]
        await store.ensure_group(stream, "g")
        assert len(await store.read_new(stream, "g", "a", 700, 10)) == 700
        assert len(await store.read_new(stream, "g", "b", 700, 10)) == 500
        pending = await store.pending(stream, "g")
        assert [p.entry_id for p in pending] == ids
        assert [p.consumer for p in pending] == ["a"] * 700 + ["b"] * 500
        claimed = await store.claim_entry(stream, "g", "b", ids[0], 0)
        assert claimed is not None
        assert claimed.deliveries == 2
        assert (await store.pending(stream, "g"))[0].consumer == "b"
        assert await store.claim_entry(stream, "g", "a", ids[1], 60_000) is None  # not idle
    finally:
        await store.close()
