"""The batching publisher: what is published during one turn goes out in one pipeline, each
caller gets its own id, a failed send fails exactly the messages it carried."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from backbeat.bus.publisher import BatchingPublisher
from backbeat.domain.messages import Channel, Envelope
from backbeat.testing.bus_fixtures import play


class _Bus:
    def __init__(self, fail: bool = False) -> None:
        self.sends: list[list[str]] = []
        self.fail = fail

    async def publish_many(self, messages: Sequence[tuple[Channel, Envelope]]) -> list[str]:
        self.sends.append([m.id for _, m in messages])
        await asyncio.sleep(0)
        if self.fail:
            raise ConnectionError("down")
        return [f"1-{n}" for n in range(len(messages))]


async def test_publishes_of_one_turn_share_one_round_trip() -> None:
    bus = _Bus()
    publisher = BatchingPublisher(bus)
    messages = [play(40_000_000_000_000_000 + n) for n in range(5)]
    ids = await asyncio.gather(*(publisher.publish(Channel.COMMANDS, m) for m in messages))
    assert ids == [f"1-{n}" for n in range(5)]
    assert bus.sends == [[m.id for m in messages]]
    assert (publisher.round_trips, publisher.sent) == (1, 5)


async def test_a_failed_send_fails_its_callers() -> None:
    publisher = BatchingPublisher(_Bus(fail=True))
    with pytest.raises(ConnectionError):
        await publisher.publish(Channel.COMMANDS, play(40_000_000_000_000_000))


async def test_a_message_not_for_the_channel_is_refused_at_once() -> None:
    publisher = BatchingPublisher(_Bus())
    with pytest.raises(ValueError, match="do not travel"):
        await publisher.publish(Channel.TO_DISCORD, play(40_000_000_000_000_000))
