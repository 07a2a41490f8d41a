"""What services see of the bus: publish, consume with acknowledgement, tap, leases.

The :class:`Bus` protocol has two implementations over one consumer engine: Redis Streams
(:mod:`backbeat.bus.redis_store`) and in-process (:mod:`backbeat.bus.memory_store`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from backbeat.bus.keys import GUILD_PARTITIONED
from backbeat.bus.store import FenceCheck
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
    #: Redis clients' socket timeout (0: ``block_ms`` + 10 s); must exceed ``block_ms``, so
    #: only a Redis that stopped answering (stopped, a dropped connection) trips it.
    socket_timeout_ms: int = 0

    @property
    def socket_timeout_s(self) -> float:
        """Seconds a Redis call may wait for its answer before it fails and is retried."""
        chosen = self.socket_timeout_ms or self.block_ms + 10_000
        if chosen <= self.block_ms:
            raise ValueError(f"socket timeout {chosen} ms must exceed block_ms {self.block_ms}")
        return chosen / 1000

    def partition_count(self, channel: Channel) -> int:
        """How many partitions (streams) ``channel`` has."""
        return self.partitions if channel in GUILD_PARTITIONED else self.shard_count

    def partition_of(self, channel: Channel, guild_id: int) -> int:
        """The partition a guild's messages use: guild mod N, or the guild's shard id."""
        if channel in GUILD_PARTITIONED:
            return guild_id % self.partitions
        return (guild_id >> 22) % self.shard_count


class LeaseGuard(Protocol):
    """Whether this worker may hand a partition's messages to handlers right now."""

    def token(self, partition: int) -> int | None:
        """The fencing token of this worker's lease on ``partition`` while it is held, not
        being released, and valid locally for at least a third of the lease TTL; else None.

        A local check (no I/O): cheap enough to call before every message."""

    @property
    def ttl_ms(self) -> int:
        """The lease TTL the tokens are timed by; a stopping reader gives handlers half of it."""

    def read_fence(self, partition: int, token: int) -> FenceCheck | None:
        """What the stream store must find, atomically with each group read, for the read
        to deliver anything: the lease held with ``token`` (None: reads are not fenced)."""


@dataclass(frozen=True, slots=True)
class Delivery:
    """One message handed to a handler, with where it came from.

    ``fence`` is the fencing token of the lease under which it was handed (None for
    consumers without a lease guard); a handler passes it to ``advance_fence`` in the SQL
    transaction of its effect. :meth:`still_current` re-checks the lease locally.
    """

    message: Envelope
    channel: Channel
    partition: int
    entry_id: str
    deliveries: int
    fence: int | None = None
    guard: LeaseGuard | None = field(default=None, repr=False, compare=False)
    #: Batch mode: tells the consumer this delivery is done before the batch handler returns.
    settle: Callable[[], None] | None = field(default=None, repr=False, compare=False)

    def finished(self) -> None:
        """A batch handler's word that this delivery is done (committed and answered): the
        consumer acknowledges it and hands its guild's next entries on (no-op otherwise)."""
        if self.settle is not None:
            self.settle()

    @property
    def redelivered(self) -> bool:
        """True when an earlier delivery of this entry was not acknowledged."""
        return self.deliveries > 1

    def still_current(self) -> bool:
        """True while the lease this message was handed under is still held with the same
        token and locally valid for a third of the TTL (always True without a guard).

        Cheap (no I/O). Not a proof: only ``advance_fence`` in SQL settles a race with a
        worker that acquired the partition while this one's event loop was stalled."""
        if self.guard is None:
            return True
        return self.fence is not None and self.guard.token(self.partition) == self.fence


Handler = Callable[[Delivery], Awaitable[None]]
#: Handles a batch of deliveries of one partition, at most one group of consecutive entries
#: per guild, in stream order. It returns once every delivery is done (committed and
#: answered), or calls :meth:`Delivery.finished` on one as soon as that one is done (so its
#: guild's next entries are handed on meanwhile). Raising means every delivery not finished
#: failed: the consumer hands those to the single handler one at a time, in order. A guild's
#: deliveries must finish in order (once one fails, the later ones of its guild must not
#: have been handled).
BatchHandler = Callable[[Sequence[Delivery]], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Batching:
    """Batch mode of a consumer: which entries go to ``handler`` in batches (``accepts``;
    the others to the single handler, in their guild's order) and whether a guild's entry
    may share a batch with the one before it (``joins(previous, message)``)."""

    handler: BatchHandler
    accepts: Callable[[Envelope], bool] = lambda _: True
    joins: Callable[[Envelope, Envelope], bool] = lambda _previous, _message: False
    #: Most consecutive entries of one guild in one batch.
    group_max: int = 20


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


class Leases(LeaseGuard, Protocol):
    """This worker's partition leases in a pool, renewed and rebalanced while it runs.

    Renewal (:meth:`tick`) and applying changes of the owned set (:meth:`reconcile`, which
    calls ``on_change``) run in separate tasks, so a slow ``on_change`` never lets leases
    lapse.
    """

    @property
    def owned(self) -> frozenset[int]:
        """Partitions held and not being released (what ``on_change`` is told next)."""

    @property
    def held(self) -> dict[int, int]:
        """Every lease held (also releasing or locally stale ones): partition → token."""

    @property
    def settled(self) -> bool:
        """True when ``on_change`` has been told :attr:`owned` and nothing is being released."""

    async def verify(self, partition: int, token: int) -> bool:
        """One round trip: is the stored lease of ``partition`` still ours with ``token``?"""

    async def tick(self) -> None:
        """One lease round: heartbeat, renew, mark extras releasing, acquire free partitions.

        Never waits for ``on_change``; changes are applied by :meth:`reconcile`."""

    async def reconcile(self) -> None:
        """Tell ``on_change`` the owned set if it changed, then release the leases of
        partitions marked releasing (their consumers have stopped by then)."""

    async def run(self) -> None:
        """Renew every third of the lease TTL and reconcile on change, until stopped."""

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

    async def publish_many(self, messages: Sequence[tuple[Channel, Envelope]]) -> list[str]:
        """Publish several messages in one round trip (each on its own guild's partition,
        in the given order per partition); the entry ids in the same order."""

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
        guard: LeaseGuard | None = None,
        batching: Batching | None = None,
    ) -> Consumer:
        """A consumer handing each message to ``handler``, acknowledging after it returns.

        With a ``guard`` every message is handed only while ``guard.token(partition)`` is
        the token the reader started with (see docs/bus.md, "One owner at a time"). With
        ``batching``, the guilds' lanes hand the entries it accepts to its handler together
        (one batch of what the lanes have ready at a time) and acknowledge them together;
        ``handler`` still takes back pending entries and those of a failed batch."""

    def tap(self, channel: Channel) -> Tap:
        """Observe a channel without taking part in any consumer group."""

    def leases(
        self, pool: str, worker_id: str, on_change: PartitionsChanged, *, ttl_ms: int | None = None
    ) -> Leases:
        """Partition leases of one worker in ``pool``; ``on_change`` gets the owned set."""

    async def close(self) -> None:
        """Release connections."""
