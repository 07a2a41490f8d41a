"""A reader with a lease guard hands an entry only under the token it started with: once the
token is gone it hands nothing more (handlers in progress finish, the rest stays pending),
and under a new token it starts over from the pending entries, in stream order."""

from __future__ import annotations

import asyncio

from backbeat.bus import Delivery, StreamBus
from backbeat.domain.messages import Channel
from backbeat.testing.bus_fixtures import Recorder, eventually, label, play, running

SLOW, OTHER = 30_000_000_000_000_000, 30_000_000_000_000_004  # both partition 0 of 4


class Switch:
    """A lease guard whose token the test sets."""

    def __init__(self, value: int | None) -> None:
        self.value = value

    ttl_ms = 3000

    def token(self, partition: int) -> int | None:
        return self.value

    def read_fence(self, partition: int, token: int) -> None:
        return None  # reads are not fenced: the local token alone decides


async def _pending_is(bus: StreamBus, expected: int) -> bool:
    return (await bus.status(Channel.COMMANDS)).streams[0].groups[0].pending == expected


async def test_a_guarded_reader_stops_handing_when_its_token_goes_and_resumes_under_a_new_one(
    bus: StreamBus,
) -> None:
    release, entered = asyncio.Event(), asyncio.Event()

    async def hook(delivery: Delivery) -> None:
        if label(delivery.message) == "slow-1":
            entered.set()
            await release.wait()

    recorder = Recorder(hook=hook)
    for n in range(1, 4):
        await bus.publish(Channel.COMMANDS, play(SLOW, f"slow-{n}"))
    await bus.publish(Channel.COMMANDS, play(OTHER, "other-1"))
    guard = Switch(7)
    consumer = bus.consume(
        Channel.COMMANDS, recorder, partitions=[0], consumer="a", exclusive=True, guard=guard
    )
    async with running(consumer):
        await asyncio.wait_for(entered.wait(), 15)
        await eventually(lambda: recorder.labels(OTHER) == ["other-1"])
        guard.value = None  # the lease is lost while slow-1 is in its handler
        release.set()
        await eventually(lambda: recorder.labels(SLOW) == ["slow-1"])  # in progress: finishes
        await eventually(lambda: _pending_is(bus, 2))
        await asyncio.sleep(0.2)  # (a reader that ignored its guard would hand slow-2 now)
        assert recorder.labels(SLOW) == ["slow-1"]
        first = recorder.deliveries[0]
        assert first.fence == 7
        assert not first.still_current()

        guard.value = 8  # acquired again: a new token, a fresh take-back
        await eventually(lambda: recorder.labels(SLOW) == ["slow-1", "slow-2", "slow-3"])
        await eventually(lambda: _pending_is(bus, 0))
    later = [d for d in recorder.deliveries if label(d.message) in {"slow-2", "slow-3"}]
    assert [d.fence for d in later] == [8, 8]
    assert [d.deliveries for d in later] == [2, 2]
    assert all(d.still_current() for d in later)


async def test_a_guarded_reader_without_a_token_hands_nothing(bus: StreamBus) -> None:
    recorder = Recorder()
    guard = Switch(None)
    await bus.publish(Channel.COMMANDS, play(SLOW, "waits"))
    consumer = bus.consume(
        Channel.COMMANDS, recorder, partitions=[0], consumer="a", exclusive=True, guard=guard
    )
    async with running(consumer):
        await asyncio.sleep(0.2)
        assert recorder.deliveries == []
        guard.value = 3
        await eventually(lambda: recorder.labels() == ["waits"])
    assert recorder.deliveries[0].fence == 3


async def test_an_unguarded_delivery_has_no_fence_and_is_always_current(bus: StreamBus) -> None:
    recorder = Recorder()
    async with running(bus.consume(Channel.COMMANDS, recorder, partitions=[0], consumer="a")):
        await bus.publish(Channel.COMMANDS, play(SLOW, "plain"))
        await eventually(lambda: len(recorder.deliveries) == 1)
    assert recorder.deliveries[0].fence is None
    assert recorder.deliveries[0].still_current()
