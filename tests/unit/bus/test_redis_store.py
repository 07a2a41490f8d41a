"""Redis specifics: a consumer outlives its stream and group being deleted (FLUSH, manual
cleanup) and stream length is capped."""

from __future__ import annotations

import redis.asyncio as aioredis

from backbeat.bus import BusConfig, redis_bus
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
