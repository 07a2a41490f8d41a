"""A group read under a fence delivers entries only while the lease is held, atomically.

A reader checks its lease token and then reads new entries; the fence carries that check
into the store (one script on Redis, one step of the event loop in process), so a read that
arrives after the lease moved takes nothing and the entries go to the new owner.
"""

from __future__ import annotations

import asyncio

from backbeat.bus import AUDIO_POOL, StreamBus
from backbeat.bus.keys import DEFAULT_GROUPS
from backbeat.domain.messages import Channel
from backbeat.testing.bus_fixtures import play

GROUP = DEFAULT_GROUPS[Channel.COMMANDS]
GUILD = 70_000_000_000_000_000  # partition 0 of 4


async def test_a_fenced_read_takes_entries_only_while_the_lease_is_held(bus: StreamBus) -> None:
    store, leases = bus.store, bus.lease_store(AUDIO_POOL)
    stream = bus.keys.stream(Channel.COMMANDS, 0)
    await store.ensure_group(stream, GROUP)
    old = await leases.acquire(0, "old", 60_000)
    assert old is not None
    fence_old = leases.fence(0, "old", old)

    await bus.publish(Channel.COMMANDS, play(GUILD, "one"))
    read = await store.read_new(stream, GROUP, "old", 10, 50, fence=fence_old)
    assert read is not None
    assert [entry.entry_id for entry in read] == [(await store.pending(stream, GROUP))[0].entry_id]
    await store.ack(stream, GROUP, [entry.entry_id for entry in read])
    empty = await store.read_new(stream, GROUP, "old", 10, 50, fence=fence_old)
    assert empty == []  # held, nothing new: an empty read, not a refusal

    # The lease moves on (released here; a lapse is the same for the store).
    assert await leases.release(0, "old", old)
    new = await leases.acquire(0, "new", 60_000)
    assert new is not None
    await bus.publish(Channel.COMMANDS, play(GUILD, "two"))
    await bus.publish(Channel.COMMANDS, play(GUILD, "three"))

    assert await store.read_new(stream, GROUP, "old", 10, 50, fence=fence_old) is None
    assert await store.pending(stream, GROUP) == []  # nothing delivered to the old owner

    taken = await store.read_new(stream, GROUP, "new", 10, 50, fence=leases.fence(0, "new", new))
    assert taken is not None
    assert len(taken) == 2
    assert {info.consumer for info in await store.pending(stream, GROUP)} == {"new"}


async def test_a_fence_of_an_older_token_of_the_same_owner_is_refused(bus: StreamBus) -> None:
    store, leases = bus.store, bus.lease_store(AUDIO_POOL)
    stream = bus.keys.stream(Channel.COMMANDS, 1)
    await store.ensure_group(stream, GROUP)
    first = await leases.acquire(1, "w", 60_000)
    assert first is not None
    assert await leases.release(1, "w", first)
    second = await leases.acquire(1, "w", 60_000)
    assert second is not None
    assert second > first
    await bus.publish(Channel.COMMANDS, play(GUILD + 1, "x"))

    assert (
        await store.read_new(stream, GROUP, "w", 10, 50, fence=leases.fence(1, "w", first)) is None
    )
    got = await store.read_new(stream, GROUP, "w", 10, 50, fence=leases.fence(1, "w", second))
    assert got is not None
    assert len(got) == 1


async def test_a_fenced_read_waiting_for_entries_delivers_one_published_meanwhile(
    bus: StreamBus,
) -> None:
    """The blocking part of a fenced read (a plain XREAD on Redis) ends when an entry comes."""
    store, leases = bus.store, bus.lease_store(AUDIO_POOL)
    stream = bus.keys.stream(Channel.COMMANDS, 2)
    await store.ensure_group(stream, GROUP)
    token = await leases.acquire(2, "w", 60_000)
    assert token is not None
    fence = leases.fence(2, "w", token)
    reading = asyncio.create_task(store.read_new(stream, GROUP, "w", 10, 20_000, fence=fence))
    await asyncio.sleep(0.2)
    await bus.publish(Channel.COMMANDS, play(GUILD + 2, "late"))
    got = await asyncio.wait_for(reading, 15)
    assert got is not None
    assert len(got) == 1
