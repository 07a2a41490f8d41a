"""Bad input never stops a consumer: it is dead-lettered with a reason, counted, listable and
replayable, and the messages behind it are handled."""

from __future__ import annotations

import json
from collections.abc import Awaitable

from backbeat.bus import Delivery, StreamBus
from backbeat.domain.messages import Channel
from backbeat.observability.metrics import REGISTRY
from backbeat.testing.bus_fixtures import Recorder, eventually, label, play, running

GUILD = 70_000_000_000_000_000  # partition 0 of 4


def counted(metric: str, reason: str) -> float:
    labels = {"channel": Channel.COMMANDS.value, "reason": reason}
    return REGISTRY.get_sample_value(metric, labels) or 0.0


async def test_rejected_messages_are_dead_lettered_and_counted_while_the_consumer_goes_on(
    bus: StreamBus,
) -> None:
    partition = bus.config.partition_of(Channel.COMMANDS, GUILD)
    valid = json.loads(play(GUILD).model_dump_json())
    reasons = ["malformed", "unknown_version", "unknown_type", "malformed"]
    before = {
        (metric, reason): counted(metric, reason)
        for metric in ("bus_messages_rejected_total", "bus_messages_dead_lettered_total")
        for reason in set(reasons)
    }
    await bus.publish(Channel.COMMANDS, play(GUILD, "before"))
    for raw in (
        b"\xff not json",
        json.dumps(valid | {"v": 99}).encode(),
        json.dumps(valid | {"type": "explode"}).encode(),
        json.dumps(valid | {"payload": {"query": ""}}).encode(),
    ):
        await bus.publish_raw(Channel.COMMANDS, partition, raw)
    await bus.publish(Channel.COMMANDS, play(GUILD, "after"))

    recorder = Recorder()
    async with running(bus.consume(Channel.COMMANDS, recorder, partitions=range(4), consumer="a")):
        await eventually(lambda: recorder.labels() == ["before", "after"])
    dead = await bus.dead_letters(Channel.COMMANDS)
    assert [d.reason for d in dead] == reasons
    assert "payload.query" in dead[3].detail
    assert dead[0].data == b"\xff not json"
    for (metric, reason), value in before.items():
        assert counted(metric, reason) == value + reasons.count(reason)
    status = await bus.status(Channel.COMMANDS)
    assert status.streams[partition].dead_letters == 4
    assert status.streams[partition].groups[0].pending == 0


async def test_failing_handler_is_retried_then_dead_lettered_and_can_be_replayed(
    bus: StreamBus,
) -> None:
    broken = True
    attempts: list[int] = []

    async def fail_while_broken(delivery: Delivery) -> None:
        if label(delivery.message) == "fragile" and broken:
            attempts.append(delivery.deliveries)
            raise RuntimeError("downstream unavailable")

    recorder = Recorder(hook=fail_while_broken)
    consumer = bus.consume(Channel.COMMANDS, recorder, partitions=range(4), consumer="a")
    async with running(consumer):
        await bus.publish(Channel.COMMANDS, play(GUILD, "fragile"))
        await bus.publish(Channel.COMMANDS, play(GUILD, "next"))
        await eventually(lambda: recorder.labels() == ["next"])
        dead = await bus.dead_letters(Channel.COMMANDS)
        assert [(d.reason, d.deliveries) for d in dead] == [
            ("handler_error", bus.config.max_deliveries)
        ]
        assert "downstream unavailable" in dead[0].detail
        assert len(attempts) == bus.config.max_deliveries

        broken = False
        assert await bus.replay(Channel.COMMANDS, [dead[0].dead_id]) == [dead[0].dead_id]
        await eventually(lambda: recorder.labels() == ["next", "fragile"])
    assert await bus.dead_letters(Channel.COMMANDS) == []


async def test_replay_all_puts_every_dead_letter_back(bus: StreamBus) -> None:
    partition = bus.config.partition_of(Channel.COMMANDS, GUILD)
    for n in range(3):
        await bus.publish_raw(Channel.COMMANDS, partition, json.dumps({"v": 1, "n": n}).encode())

    async def dead_ids() -> set[str]:
        return {d.dead_id for d in await bus.dead_letters(Channel.COMMANDS)}

    recorder = Recorder()
    async with running(bus.consume(Channel.COMMANDS, recorder, partitions=range(4), consumer="a")):
        await eventually(lambda: _count(dead_ids(), 3))
        first = await dead_ids()
        assert set(await bus.replay(Channel.COMMANDS)) == first
        # Replayed, they are consumed again (and, still malformed, dead-lettered anew).
        await eventually(lambda: _fresh(dead_ids(), first))
    assert recorder.deliveries == []


async def _count(ids: Awaitable[set[str]], expected: int) -> bool:
    return len(await ids) == expected


async def _fresh(ids: Awaitable[set[str]], old: set[str]) -> bool:
    found = await ids
    return len(found) == len(old) and found.isdisjoint(old)
