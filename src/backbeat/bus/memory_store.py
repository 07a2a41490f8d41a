"""In-process streams with Redis Streams semantics, for the embedded single-process bus.

Consumer groups, pending lists, delivery counts, claiming and dead letters behave as on Redis,
so the same consumer engine and contract tests apply. Nothing survives the process: delivery
is at-most-once across a crash (the SQL queue stays the system of record).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from backbeat.bus.keys import DEAD_SUFFIX
from backbeat.bus.store import (
    DeadLetter,
    Entry,
    FenceCheck,
    GroupStats,
    PendingInfo,
    StreamStats,
)


def _seq(entry_id: str) -> int:
    return int(entry_id.split("-", 1)[0])


def _id(seq: int) -> str:
    return f"{seq}-0"


@dataclass
class _Pending:
    consumer: str
    deliveries: int
    since: float


@dataclass
class _Group:
    last: int = 0
    consumers: set[str] = field(default_factory=set)
    pending: dict[int, _Pending] = field(default_factory=dict)


@dataclass
class _Stream:
    seq: int = 0
    entries: dict[int, bytes] = field(default_factory=dict)
    groups: dict[str, _Group] = field(default_factory=dict)
    dead: dict[int, DeadLetter] = field(default_factory=dict)


class MemoryStreamStore:
    """Streams held in this process's memory."""

    durable = False

    def __init__(self) -> None:
        self._streams: dict[str, _Stream] = {}
        self._changed = asyncio.Event()  # any stream grew (taps)
        self._grown: dict[str, asyncio.Event] = {}  # one stream grew (group readers)
        self._dead_seq = 0

    def _stream(self, name: str) -> _Stream:
        stream = self._streams.get(name)
        if stream is None:
            stream = self._streams[name] = _Stream()
        return stream

    def _notify(self, stream: str | None = None) -> None:
        self._changed.set()
        self._changed = asyncio.Event()
        grown = self._grown.pop(stream, None) if stream is not None else None
        if grown is not None:
            grown.set()

    async def _wait(self, deadline: float, stream: str | None = None) -> bool:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        if stream is None:
            event = self._changed
        else:
            event = self._grown.get(stream) or self._grown.setdefault(stream, asyncio.Event())
        try:
            await asyncio.wait_for(event.wait(), remaining)
        except TimeoutError:
            return False
        return True

    async def append(self, stream: str, data: bytes, maxlen: int) -> str:
        log = self._stream(stream)
        log.seq += 1
        log.entries[log.seq] = data
        while len(log.entries) > maxlen:
            del log.entries[next(iter(log.entries))]
        self._notify(stream)
        return _id(log.seq)

    async def append_many(self, items: Sequence[tuple[str, bytes]], maxlen: int) -> list[str]:
        return [await self.append(stream, data, maxlen) for stream, data in items]

    async def ensure_group(self, stream: str, group: str) -> None:
        self._stream(stream).groups.setdefault(group, _Group())

    def _group(self, stream: str, group: str, consumer: str) -> tuple[_Stream, _Group]:
        log = self._stream(stream)
        state = log.groups.setdefault(group, _Group())
        state.consumers.add(consumer)
        return log, state

    def _take_new(self, stream: str, group: str, consumer: str, count: int) -> list[Entry]:
        log, state = self._group(stream, group, consumer)
        taken: list[Entry] = []
        now = time.monotonic()
        while state.last < log.seq and len(taken) < count:
            state.last += 1
            data = log.entries.get(state.last)
            if data is None:
                continue
            state.pending[state.last] = _Pending(consumer, 1, now)
            taken.append(Entry(_id(state.last), data, 1))
        return taken

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
        """The fence (an in-process lease's ``held``) is checked right before each take,
        with no ``await`` between them: nothing can run in between on this event loop."""
        if fence is not None and fence.held is None:
            raise ValueError("the in-process store checks fences through FenceCheck.held")
        deadline = time.monotonic() + block_ms / 1000
        while True:
            if fence is not None and fence.held is not None and not fence.held():
                return None
            taken = self._take_new(stream, group, consumer, count)
            if taken or not await self._wait(deadline, stream):
                return taken

    async def pending(self, stream: str, group: str) -> list[PendingInfo]:
        state = self._stream(stream).groups.get(group)
        if state is None:
            return []
        now = time.monotonic()
        return [
            PendingInfo(_id(seq), p.consumer, p.deliveries, int((now - p.since) * 1000))
            for seq, p in sorted(state.pending.items())
        ]

    async def claim_entry(
        self, stream: str, group: str, consumer: str, entry_id: str, min_idle_ms: int
    ) -> Entry | None:
        log, state = self._group(stream, group, consumer)
        seq = _seq(entry_id)
        pending = state.pending.get(seq)
        if pending is None or time.monotonic() - pending.since < min_idle_ms / 1000:
            return None
        data = log.entries.get(seq)
        if data is None:  # trimmed away: as Redis 7 does, drop it from the pending list
            del state.pending[seq]
            return None
        pending.consumer = consumer
        pending.deliveries += 1
        pending.since = time.monotonic()
        return Entry(entry_id, data, pending.deliveries)

    async def ack(self, stream: str, group: str, entry_ids: list[str]) -> None:
        state = self._stream(stream).groups.get(group)
        if state is not None:
            for entry_id in entry_ids:
                state.pending.pop(_seq(entry_id), None)

    async def dead_letter(
        self, stream: str, group: str, entry: Entry, *, reason: str, detail: str, maxlen: int
    ) -> str:
        dead = self._stream(stream + DEAD_SUFFIX)
        self._dead_seq += 1
        dead.dead[self._dead_seq] = DeadLetter(
            dead_id=_id(self._dead_seq),
            source_stream=stream,
            source_id=entry.entry_id,
            group=group,
            reason=reason,
            detail=detail,
            deliveries=entry.deliveries,
            dead_at=time.time(),
            data=entry.data or b"",
        )
        while len(dead.dead) > maxlen:
            del dead.dead[next(iter(dead.dead))]
        await self.ack(stream, group, [entry.entry_id])
        return _id(self._dead_seq)

    async def dead_letters(self, stream: str, count: int) -> list[DeadLetter]:
        dead = self._streams.get(stream + DEAD_SUFFIX)
        return [] if dead is None else list(dead.dead.values())[:count]

    async def replay(self, dead_stream: str, dead_id: str, maxlen: int) -> str | None:
        dead = self._streams.get(dead_stream)
        letter = None if dead is None else dead.dead.pop(_seq(dead_id), None)
        if letter is None:
            return None
        return await self.append(letter.source_stream, letter.data, maxlen)

    async def tail(self, streams: list[str]) -> dict[str, str]:
        return {name: _id(self._stream(name).seq) for name in streams}

    async def read_after(
        self, positions: Mapping[str, str], count: int, block_ms: int
    ) -> list[tuple[str, str, bytes]]:
        deadline = time.monotonic() + block_ms / 1000
        while True:
            found: list[tuple[str, str, bytes]] = []
            for name, after in positions.items():
                log = self._stream(name)
                for seq in range(_seq(after) + 1, log.seq + 1):
                    data = log.entries.get(seq)
                    if data is not None and len(found) < count:
                        found.append((name, _id(seq), data))
            if found or not await self._wait(deadline):
                return found

    async def stats(self, stream: str) -> StreamStats:
        log = self._stream(stream)
        dead = self._streams.get(stream + DEAD_SUFFIX)
        groups = [
            GroupStats(
                name=name,
                consumers=len(state.consumers),
                pending=len(state.pending),
                lag=sum(1 for seq in log.entries if seq > state.last),
                last_delivered_id=_id(state.last),
            )
            for name, state in sorted(log.groups.items())
        ]
        return StreamStats(stream, len(log.entries), 0 if dead is None else len(dead.dead), groups)

    async def close(self) -> None:
        self._notify()
        for event in self._grown.values():
            event.set()
        self._grown.clear()
