"""Streams on Redis: XADD with approximate MAXLEN, consumer groups, XPENDING + XCLAIM, dead letters.

Every method is one round trip or one atomic transaction/script, so a crash between steps
never loses an entry: an entry leaves a pending list only by XACK, and dead-lettering adds
to ``<stream>:dead`` and acknowledges in one MULTI. A fenced group read is one script that
checks the lease key and runs ``XREADGROUP`` (see :class:`~backbeat.bus.store.FenceCheck`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import cast

import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from backbeat.bus import keys as k
from backbeat.bus.store import (
    DeadLetter,
    Entry,
    FenceCheck,
    GroupStats,
    PendingInfo,
    StreamStats,
)

_REPLAY = """
if redis.call('XDEL', KEYS[1], ARGV[1]) == 1 then
  return redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', 'm', ARGV[3])
end
return false
"""

# A group read that happens only while a lease is held (KEYS: stream, lease key; ARGV: the
# lease value, group, consumer, count). XREADGROUP without BLOCK runs inside a script.
# Replies {0}: the lease is not held, nothing read; {1, entries}: what was read; {2, id}:
# nothing new, id of the stream's newest entry (to block on with a plain XREAD).
_FENCED_READ = """
if redis.call('GET', KEYS[2]) ~= ARGV[1] then
  return {0}
end
local reply = redis.call('XREADGROUP', 'GROUP', ARGV[2], ARGV[3], 'COUNT', ARGV[4],
  'STREAMS', KEYS[1], '>')
if reply then
  return {1, reply[1][2]}
end
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
if last[1] then
  return {2, last[1][1]}
end
return {2, '0-0'}
"""

RawEntry = tuple[bytes, dict[bytes, bytes] | None]

_PENDING_PAGE = 500


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _data(fields: dict[bytes, bytes] | None) -> bytes | None:
    return None if not fields else fields.get(k.FIELD_MESSAGE)


def _dead_letter(stream: str, entry_id: bytes, fields: dict[bytes, bytes]) -> DeadLetter:
    def text(name: bytes) -> str:
        return fields.get(name, b"").decode(errors="replace")

    return DeadLetter(
        dead_id=_text(entry_id),
        source_stream=text(k.FIELD_SOURCE) or stream.removesuffix(k.DEAD_SUFFIX),
        source_id=text(k.FIELD_SOURCE_ID),
        group=text(k.FIELD_GROUP),
        reason=text(k.FIELD_REASON),
        detail=text(k.FIELD_DETAIL),
        deliveries=int(fields.get(k.FIELD_DELIVERIES, b"0") or 0),
        dead_at=float(fields.get(k.FIELD_DEAD_AT, b"0") or 0),
        data=fields.get(k.FIELD_MESSAGE, b""),
    )


class RedisStreamStore:
    """Streams in one Redis database."""

    durable = True

    def __init__(self, client: aioredis.Redis) -> None:
        self._redis = client
        self._groups: set[tuple[str, str]] = set()
        self._replay = client.register_script(_REPLAY)
        self._fenced_read = client.register_script(_FENCED_READ)

    @classmethod
    def from_url(cls, url: str, *, socket_timeout: float | None = None) -> RedisStreamStore:
        """A store on its own client. ``socket_timeout`` (seconds) bounds every call, so a
        Redis that stopped answering fails the call (and the caller retries) instead of
        hanging it; it must exceed the longest blocking read. Idle connections are pinged
        before use every ``socket_timeout / 2`` (at most 5 s) so dead ones are replaced."""
        if socket_timeout is None:
            return cls(aioredis.Redis.from_url(url, decode_responses=False))
        return cls(
            aioredis.Redis.from_url(
                url,
                decode_responses=False,
                socket_timeout=socket_timeout,
                socket_connect_timeout=socket_timeout,
                socket_keepalive=True,
                health_check_interval=min(5.0, socket_timeout / 2),
            )
        )

    @property
    def client(self) -> aioredis.Redis:
        return self._redis

    async def append(self, stream: str, data: bytes, maxlen: int) -> str:
        entry_id = await self._redis.xadd(
            stream, {k.FIELD_MESSAGE: data}, maxlen=maxlen, approximate=True
        )
        return _text(entry_id)

    async def append_many(self, items: Sequence[tuple[str, bytes]], maxlen: int) -> list[str]:
        if not items:
            return []
        async with self._redis.pipeline(transaction=False) as pipe:
            for stream, data in items:
                pipe.xadd(stream, {k.FIELD_MESSAGE: data}, maxlen=maxlen, approximate=True)
            ids = await pipe.execute()
        return [_text(entry_id) for entry_id in ids]

    async def ensure_group(self, stream: str, group: str) -> None:
        if (stream, group) in self._groups:
            return
        try:
            await self._redis.xgroup_create(stream, group, id="0", mkstream=True)
        except ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise
        self._groups.add((stream, group))

    async def _read_group(
        self, stream: str, group: str, consumer: str, *, start: str, count: int, block: int | None
    ) -> list[RawEntry]:
        await self.ensure_group(stream, group)
        try:
            reply = await self._redis.xreadgroup(
                group, consumer, {stream: start}, count=count, block=block
            )
        except ResponseError as error:
            if "NOGROUP" not in str(error):
                raise
            self._groups.discard((stream, group))
            await self.ensure_group(stream, group)
            return []
        return list(reply[0][1]) if reply else []

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
        """Without a fence one blocking ``XREADGROUP``. With one, the group read is a script
        that reads only while the lease key holds the fence's value; when there is nothing
        new it waits with a plain ``XREAD BLOCK`` after the stream's newest entry (which
        delivers nothing to the group) and then runs the fenced read once more."""
        if fence is None:
            raw = await self._read_group(
                stream, group, consumer, start=">", count=count, block=max(block_ms, 1)
            )
            return [Entry(_text(entry_id), _data(fields), 1) for entry_id, fields in raw]
        found = await self._read_fenced(stream, group, consumer, count, fence)
        if not isinstance(found, str):
            return found
        streams = cast(
            dict[bytes | str | memoryview, int | bytes | str | memoryview], {stream: found}
        )
        if not await self._redis.xread(streams, count=1, block=max(block_ms, 1)):
            return []
        again = await self._read_fenced(stream, group, consumer, count, fence)
        return [] if isinstance(again, str) else again

    async def _read_fenced(
        self, stream: str, group: str, consumer: str, count: int, fence: FenceCheck
    ) -> list[Entry] | str | None:
        """Entries read under the fence, None when the lease is not held, or (nothing new)
        the id of the stream's newest entry."""
        await self.ensure_group(stream, group)
        try:
            reply = await self._fenced_read(
                keys=[stream, fence.key], args=[fence.value, group, consumer, count]
            )
        except ResponseError as error:
            if "NOGROUP" not in str(error):
                raise
            self._groups.discard((stream, group))
            await self.ensure_group(stream, group)
            return []
        kind = int(reply[0])
        if kind == 0:
            return None
        if kind == 2:
            return _text(reply[1])
        entries: list[Entry] = []
        for entry_id, flat in reply[1]:
            fields = dict(zip(flat[::2], flat[1::2], strict=True)) if flat else None
            entries.append(Entry(_text(entry_id), _data(fields), 1))
        return entries

    async def pending(self, stream: str, group: str) -> list[PendingInfo]:
        await self.ensure_group(stream, group)
        found: list[PendingInfo] = []
        start = "-"
        while True:
            try:
                rows = await self._redis.xpending_range(
                    stream, group, min=start, max="+", count=_PENDING_PAGE
                )
            except ResponseError as error:
                if "NOGROUP" not in str(error):
                    raise
                self._groups.discard((stream, group))
                return found
            found.extend(
                PendingInfo(
                    _text(row["message_id"]),
                    _text(row["consumer"]),
                    int(row["times_delivered"]),
                    int(row["time_since_delivered"]),
                )
                for row in rows
            )
            if len(rows) < _PENDING_PAGE:
                return found
            start = "(" + found[-1].entry_id

    async def claim_entry(
        self, stream: str, group: str, consumer: str, entry_id: str, min_idle_ms: int
    ) -> Entry | None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.xclaim(stream, group, consumer, min_idle_ms, [entry_id])
            pipe.xpending_range(stream, group, min=entry_id, max=entry_id, count=1)
            claimed, rows = await pipe.execute()
        if not claimed:
            return None  # acknowledged meanwhile, not idle enough, or deleted (Redis 7 drops it)
        fields = claimed[0][1]
        if not fields:  # deleted from the stream, still pending (Redis before 7)
            await self.ack(stream, group, [entry_id])
            return None
        deliveries = int(rows[0]["times_delivered"]) if rows else 1
        return Entry(entry_id, _data(fields), deliveries)

    async def ack(self, stream: str, group: str, entry_ids: list[str]) -> None:
        if entry_ids:
            await self._redis.xack(stream, group, *entry_ids)

    async def dead_letter(
        self, stream: str, group: str, entry: Entry, *, reason: str, detail: str, maxlen: int
    ) -> str:
        fields: dict[bytes, bytes | str | int | float] = {
            k.FIELD_MESSAGE: entry.data or b"",
            k.FIELD_REASON: reason,
            k.FIELD_DETAIL: detail[:2000],
            k.FIELD_SOURCE: stream,
            k.FIELD_SOURCE_ID: entry.entry_id,
            k.FIELD_GROUP: group,
            k.FIELD_DELIVERIES: entry.deliveries,
            k.FIELD_DEAD_AT: time.time(),
        }
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.xadd(stream + k.DEAD_SUFFIX, fields, maxlen=maxlen, approximate=True)  # type: ignore[arg-type]
            pipe.xack(stream, group, entry.entry_id)
            dead_id, _ = await pipe.execute()
        return _text(dead_id)

    async def dead_letters(self, stream: str, count: int) -> list[DeadLetter]:
        dead = stream + k.DEAD_SUFFIX
        rows = await self._redis.xrange(dead, count=count)
        return [_dead_letter(dead, entry_id, fields) for entry_id, fields in rows]

    async def replay(self, dead_stream: str, dead_id: str, maxlen: int) -> str | None:
        rows = await self._redis.xrange(dead_stream, min=dead_id, max=dead_id)
        if not rows:
            return None
        letter = _dead_letter(dead_stream, rows[0][0], rows[0][1])
        new_id = await self._replay(
            keys=[dead_stream, letter.source_stream], args=[dead_id, maxlen, letter.data]
        )
        return None if new_id is None else _text(new_id)

    async def tail(self, streams: list[str]) -> dict[str, str]:
        async with self._redis.pipeline(transaction=False) as pipe:
            for stream in streams:
                pipe.xrevrange(stream, count=1)
            replies = await pipe.execute()
        return {
            stream: _text(rows[0][0]) if rows else "0-0"
            for stream, rows in zip(streams, replies, strict=True)
        }

    async def read_after(
        self, positions: Mapping[str, str], count: int, block_ms: int
    ) -> list[tuple[str, str, bytes]]:
        streams = cast(
            dict[bytes | str | memoryview, int | bytes | str | memoryview], dict(positions)
        )
        reply = await self._redis.xread(streams, count=count, block=max(block_ms, 1))
        found: list[tuple[str, str, bytes]] = []
        for stream, rows in reply or []:
            for entry_id, fields in rows:
                data = _data(fields)
                if data is not None:
                    found.append((_text(stream), _text(entry_id), data))
        return found

    async def stats(self, stream: str) -> StreamStats:
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.xlen(stream)
            pipe.xlen(stream + k.DEAD_SUFFIX)
            length, dead = await pipe.execute()
        try:
            groups = await self._redis.xinfo_groups(stream)
        except ResponseError:
            groups = []
        return StreamStats(
            stream=stream,
            length=int(length),
            dead_letters=int(dead),
            groups=[
                GroupStats(
                    name=_text(group["name"]),
                    consumers=int(group["consumers"]),
                    pending=int(group["pending"]),
                    lag=None if group.get("lag") is None else int(group["lag"]),
                    last_delivered_id=_text(group["last-delivered-id"]),
                )
                for group in groups
            ],
        )

    async def close(self) -> None:
        await self._redis.aclose()
