"""What services see of the bus: publish, consume with acknowledgement, tap, leases.

The :class:`Bus` protocol has two implementations over one consumer engine: Redis Streams
(:mod:`backbeat.bus.redis_store`) and in-process (:mod:`backbeat.bus.memory_store`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from backbeat.bus.keys import GUILD_PARTITIONED
from backbeat.domain.messages import Channel, Envelope


@dataclass(frozen=True, slots=True)
class BusConfig:
    """Tuning shared by every process of a deployment (see docs/bus.md)."""

    partitions: int = 16
    shard_count: int = 1
    max_deliveries: int = 5
    claim_idle_ms: int = 30_000
    maxlen: int = 100_000
    lease_ttl_ms: int = 10_000
    block_ms: int = 1_000
    batch: int = 100

    def partition_count(self, channel: Channel) -> int:
        """How many partitions (streams) ``channel`` has."""
        return self.partitions if channel in GUILD_PARTITIONED else self.shard_count

    def partition_of(self, channel: Channel, guild_id: int) -> int:
        """The partition a guild's messages use: guild mod N, or the guild's shard id."""
        if channel in GUILD_PARTITIONED:
            return guild_id % self.partitions
        return (guild_id >> 22) % self.shard_count


@dataclass(frozen=True, slots=True)
class Delivery:
    """One message handed to a handler, with where it came from."""

    message: Envelope
    channel: Channel
    partition: int
    entry_id: str
    deliveries: int

    @property
    def redelivered(self) -> bool:
        """True when an earlier delivery of this entry was not acknowledged."""
        return self.deliveries > 1


Handler = Callable[[Delivery], Awaitable[None]]
PartitionsChanged = Callable[[frozenset[int]], Awaitable[None]]


class Consumer(Protocol):
    """Reads some partitions of one channel for one consumer group."""

    @property
    def partitions(self) -> frozenset[int]: ...

    async def assign(self, partitions: Iterable[int]) -> None:
        """Read exactly these partitions from now on (stopping others after their message)."""

    async def run(self) -> None:
        """Consume until :meth:`stop` (or cancellation, which acknowledges nothing in flight)."""

    async def stop(self) -> None:
        """Finish the messages being handled, acknowledge them, and end :meth:`run`."""


class Tap(Protocol):
    """Everything published on a channel after the tap opened, in publish order per partition."""

    async def __aenter__(self) -> Tap: ...

    async def __aexit__(self, *exc: object) -> None: ...

    def __aiter__(self) -> AsyncIterator[Envelope]: ...


class Leases(Protocol):
    """This worker's partition leases in a pool, renewed and rebalanced while it runs."""

    @property
    def owned(self) -> frozenset[int]: ...

    async def tick(self) -> None:
        """One round: heartbeat, renew, release extras, acquire free partitions."""

    async def run(self) -> None:
        """Tick every third of the lease TTL until stopped or cancelled."""

    async def stop(self) -> None:
        """Stop consuming the owned partitions, release them and leave the pool."""


class Bus(Protocol):
    """The message bus used by gateway, audio and panel."""

    @property
    def config(self) -> BusConfig: ...

    @property
    def is_durable(self) -> bool:
        """True when messages survive this process (Redis)."""

    async def publish(self, channel: Channel, message: Envelope) -> str:
        """Append a message to its guild's partition; returns the stream entry id."""

    async def publish_raw(self, channel: Channel, partition: int, data: bytes) -> str:
        """Append bytes as they are (tools and tests: replays, malformed input)."""

    def consume(
        self,
        channel: Channel,
        handler: Handler,
        *,
        partitions: Iterable[int] = (),
        group: str | None = None,
        consumer: str,
        exclusive: bool = False,
        dedupe_size: int = 10_000,
    ) -> Consumer:
        """A consumer handing each message to ``handler``, acknowledging after it returns."""

    def tap(self, channel: Channel) -> Tap:
        """Observe a channel without taking part in any consumer group."""

    def leases(
        self, pool: str, worker_id: str, on_change: PartitionsChanged, *, ttl_ms: int | None = None
    ) -> Leases:
        """Partition leases of one worker in ``pool``; ``on_change`` gets the owned set."""

    async def close(self) -> None:
        """Release connections."""
