"""The stream storage a bus runs on: Redis Streams semantics, implemented twice.

The consumer engine (:mod:`backbeat.bus.consumer`) speaks only this protocol, so the Redis
and the in-process bus share delivery counting, reclaiming, dead-lettering and ordering.
Entry ids are strings that sort by append order within a stream.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True, slots=True)
class FenceCheck:
    """A lease that a group read must find still held, checked in the same atomic step.

    A reader checks its lease token and then reads; a stall between the two could land the
    read after another worker took the partition over, leaving what it read pending under an
    owner that hands nothing more. With a fence the store reads only while the lease holds:
    Redis compares ``key``'s value with ``value`` in the script that runs ``XREADGROUP``; the
    in-process store calls ``held`` (a synchronous check of its in-process lease store) in the
    same step of the event loop as the read. ``held`` is None for leases only Redis can check.
    """

    key: str
    value: str
    held: Callable[[], bool] | None = None


@dataclass(frozen=True, slots=True)
class Entry:
    """One stream entry as delivered to a consumer; ``data`` None when it was trimmed away."""

    entry_id: str
    data: bytes | None
    deliveries: int


@dataclass(frozen=True, slots=True)
class PendingInfo:
    """One entry delivered to a group and not yet acknowledged, as the pending list shows it."""

    entry_id: str
    consumer: str
    deliveries: int
    idle_ms: int


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """An entry moved aside: the raw message and why."""

    dead_id: str
    source_stream: str
    source_id: str
    group: str
    reason: str
    detail: str
    deliveries: int
    dead_at: float
    data: bytes


@dataclass(frozen=True, slots=True)
class GroupStats:
    name: str
    consumers: int
    pending: int
    lag: int | None
    last_delivered_id: str


@dataclass(frozen=True, slots=True)
class StreamStats:
    stream: str
    length: int
    dead_letters: int
    groups: list[GroupStats] = field(default_factory=list)


class StreamStore(Protocol):
    """Append-only partitioned logs with consumer groups, pending lists and dead letters."""

    durable: bool

    async def append(self, stream: str, data: bytes, maxlen: int) -> str: ...

    async def append_many(self, items: Sequence[tuple[str, bytes]], maxlen: int) -> list[str]:
        """Append each ``(stream, data)`` in order, in one round trip (not atomically); the
        entry ids in the same order."""

    async def ensure_group(self, stream: str, group: str) -> None: ...

    async def read_new(
        self,
        stream: str,
        group: str,
        consumer: str,
        count: int,
        block_ms: int,
        *,
        fence: FenceCheck | None = None,
    ) -> list[Entry] | None:
        """Entries never delivered to the group (blocking up to ``block_ms``).

        With a ``fence``, entries are delivered only by a read that found the lease held,
        atomically; None (nothing read) when the lease was not held."""

    async def pending(self, stream: str, group: str) -> list[PendingInfo]:
        """Every entry pending for the group, whoever holds it, oldest (lowest id) first."""

    async def claim_entry(
        self, stream: str, group: str, consumer: str, entry_id: str, min_idle_ms: int
    ) -> Entry | None:
        """Take over one pending entry (also one this consumer holds) if it has been idle for
        at least ``min_idle_ms``, counting a delivery; None when it is no longer pending, not
        idle long enough, or was deleted from the stream (then it leaves the pending list)."""

    async def ack(self, stream: str, group: str, entry_ids: list[str]) -> None: ...

    async def dead_letter(
        self,
        stream: str,
        group: str,
        entry: Entry,
        *,
        reason: str,
        detail: str,
        maxlen: int,
    ) -> str:
        """Move an entry to ``<stream>:dead`` and acknowledge it, atomically."""

    async def dead_letters(self, stream: str, count: int) -> list[DeadLetter]: ...

    async def replay(self, dead_stream: str, dead_id: str, maxlen: int) -> str | None:
        """Append a dead letter's message to its source stream again and drop the dead letter."""

    async def tail(self, streams: list[str]) -> dict[str, str]:
        """The id of each stream's newest entry (``0-0`` when empty), to read after it."""

    async def read_after(
        self, positions: Mapping[str, str], count: int, block_ms: int
    ) -> list[tuple[str, str, bytes]]:
        """Entries after the given ids, without any group: ``(stream, id, data)``."""

    async def stats(self, stream: str) -> StreamStats: ...

    async def close(self) -> None: ...
