"""The bus over a :class:`~backbeat.bus.store.StreamStore`: Redis or in-process, one behaviour."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from backbeat.bus.consumer import StreamConsumer
from backbeat.bus.interface import (
    Batching,
    BusConfig,
    Handler,
    LeaseGuard,
    PartitionsChanged,
)
from backbeat.bus.keys import DEAD_SUFFIX, DEFAULT_GROUPS, Keys
from backbeat.bus.leases import LeaseStore, PartitionLeases
from backbeat.bus.store import DeadLetter, StreamStats, StreamStore
from backbeat.domain.messages import Channel, Envelope, Rejection, channel_accepts, decode, encode
from backbeat.observability.logging import get_logger
from backbeat.observability.metrics import bus_messages_published_total

log = get_logger(__name__)


#: Errors that mean "the store is unreachable right now" (Redis restarting, network blip,
#: AOF still loading): the tap waits and reads again instead of ending its iterator.
TRANSIENT_STORE_ERRORS: tuple[type[BaseException], ...] = (
    RedisConnectionError,
    RedisTimeoutError,
    ConnectionError,
    TimeoutError,
)


class StreamTap:
    """Reads every partition of a channel from where they ended when the tap opened.

    The tap keeps the id of the last entry it yielded per partition. When the store is
    unreachable (:data:`TRANSIENT_STORE_ERRORS`: Redis restarting, a connection reset, a
    timeout, the append-only file still loading), the iterator does not end: it retries with
    jittered exponential backoff (``retry_initial`` doubling up to ``retry_max`` seconds) and
    resumes after those ids, so across a Redis restart with persistence it delivers
    everything appended meanwhile, in order, and nothing twice. A reconnect may miss:

    - entries trimmed by ``MAXLEN`` while the tap was away (reading resumes at the oldest
      entry left, silently past the trimmed ones);
    - with a Redis without persistence (or ``appendfsync everysec`` and a crash), every
      entry lost in the restart: the restarted server does not have them, and the tap goes
      on with entries appended after it came back.

    Opening the tap (``async with``) needs the store reachable and raises otherwise.
    """

    def __init__(
        self,
        bus: StreamBus,
        channel: Channel,
        *,
        retry_initial: float = 0.05,
        retry_max: float = 2.0,
    ) -> None:
        self._bus = bus
        self._channel = channel
        self._positions: dict[str, str] = {}
        self._retry_initial = retry_initial
        self._retry_max = retry_max
        self.reconnects = 0
        self.failed_reads = 0  # reads that met an unreachable store (then retried)

    async def __aenter__(self) -> StreamTap:
        streams = [
            self._bus.keys.stream(self._channel, p)
            for p in range(self._bus.config.partition_count(self._channel))
        ]
        self._positions = await self._bus.store.tail(streams)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._positions = {}

    def __aiter__(self) -> AsyncIterator[Envelope]:
        return self._messages()

    async def _read(self) -> list[tuple[str, str, bytes]]:
        """The next entries after the positions, waiting out an unreachable store."""
        delay = self._retry_initial
        failures = 0
        while True:
            try:
                rows = await self._bus.store.read_after(self._positions, 100, 1000)
            except TRANSIENT_STORE_ERRORS as exc:
                failures += 1
                self.failed_reads += 1
                # Jitter over [delay/2, delay]: taps of many processes do not come back
                # in lockstep, and the wait never exceeds retry_max.
                wait = delay / 2 + random.random() * delay / 2
                log.warning(
                    "bus tap lost its store; retrying",
                    channel=self._channel.value,
                    error=repr(exc),
                    attempt=failures,
                    retry_in_s=round(wait, 3),
                )
                await asyncio.sleep(wait)
                delay = min(delay * 2, self._retry_max)
                continue
            if failures:
                self.reconnects += 1
                log.info("bus tap reconnected", channel=self._channel.value, failed_reads=failures)
            return rows

    async def _messages(self) -> AsyncIterator[Envelope]:
        if not self._positions:
            raise RuntimeError("open the tap with 'async with' before iterating")
        task = asyncio.current_task()
        cancels_before = task.cancelling() if task is not None else 0
        while True:
            rows = await self._read()
            if task is not None and task.cancelling() > cancels_before:
                # Only a cancellation ends this loop, and one can be lost on Python 3.11:
                # redis-py sends each command under asyncio.wait_for, which returns normally
                # when the write finished in the step the task was cancelled (fixed in 3.12).
                # The task still counts the request, so honour it here.
                raise asyncio.CancelledError
            for stream, entry_id, data in rows:
                self._positions[stream] = entry_id
                message = decode(self._channel, data)
                if not isinstance(message, Rejection):
                    yield message


@dataclass(frozen=True, slots=True)
class ChannelStatus:
    channel: Channel
    streams: list[StreamStats]


class StreamBus:
    """Implements :class:`~backbeat.bus.interface.Bus` over a stream store and a lease store."""

    def __init__(
        self,
        store: StreamStore,
        lease_stores: dict[str, LeaseStore] | None = None,
        *,
        config: BusConfig | None = None,
        keys: Keys | None = None,
    ) -> None:
        self.store = store
        self.keys = keys or Keys()
        self._config = config or BusConfig()
        self._lease_stores = lease_stores or {}

    @property
    def config(self) -> BusConfig:
        return self._config

    @property
    def is_durable(self) -> bool:
        return self.store.durable

    def lease_store(self, pool: str) -> LeaseStore:
        return self._lease_stores[pool]

    async def publish(self, channel: Channel, message: Envelope) -> str:
        if not channel_accepts(channel, message):
            raise ValueError(f"{message.type!r} messages do not travel on {channel.value}")
        partition = self._config.partition_of(channel, message.guild_id)
        entry_id = await self.store.append(
            self.keys.stream(channel, partition), encode(message), self._config.maxlen
        )
        bus_messages_published_total.labels(channel.value).inc()
        return entry_id

    async def publish_many(self, messages: Sequence[tuple[Channel, Envelope]]) -> list[str]:
        items: list[tuple[str, bytes]] = []
        for channel, message in messages:
            if not channel_accepts(channel, message):
                raise ValueError(f"{message.type!r} messages do not travel on {channel.value}")
            partition = self._config.partition_of(channel, message.guild_id)
            items.append((self.keys.stream(channel, partition), encode(message)))
        ids = await self.store.append_many(items, self._config.maxlen)
        for channel, _ in messages:
            bus_messages_published_total.labels(channel.value).inc()
        return ids

    async def publish_raw(self, channel: Channel, partition: int, data: bytes) -> str:
        if not 0 <= partition < self._config.partition_count(channel):
            raise ValueError(f"{channel.value} has no partition {partition}")
        return await self.store.append(
            self.keys.stream(channel, partition), data, self._config.maxlen
        )

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
    ) -> StreamConsumer:
        return StreamConsumer(
            self.store,
            self.keys,
            self._config,
            channel,
            handler,
            group=group or DEFAULT_GROUPS[channel],
            consumer=consumer,
            partitions=partitions,
            exclusive=exclusive,
            dedupe_size=dedupe_size,
            guard=guard,
            batching=batching,
        )

    def tap(self, channel: Channel) -> StreamTap:
        return StreamTap(self, channel)

    def leases(
        self, pool: str, worker_id: str, on_change: PartitionsChanged, *, ttl_ms: int | None = None
    ) -> PartitionLeases:
        return PartitionLeases(
            self._lease_stores[pool],
            partitions=self._config.partitions,
            worker_id=worker_id,
            ttl_ms=ttl_ms or self._config.lease_ttl_ms,
            on_change=on_change,
        )

    async def status(self, channel: Channel) -> ChannelStatus:
        count = self._config.partition_count(channel)
        stats = await asyncio.gather(
            *(self.store.stats(self.keys.stream(channel, p)) for p in range(count))
        )
        return ChannelStatus(channel, list(stats))

    async def dead_letters(self, channel: Channel, count: int = 1000) -> list[DeadLetter]:
        found: list[DeadLetter] = []
        for partition in range(self._config.partition_count(channel)):
            found.extend(await self.store.dead_letters(self.keys.stream(channel, partition), count))
        return found

    async def replay(self, channel: Channel, dead_ids: Iterable[str] | None = None) -> list[str]:
        """Put dead letters (all when ``dead_ids`` is None) back on their streams."""
        wanted = None if dead_ids is None else set(dead_ids)
        replayed: list[str] = []
        for letter in await self.dead_letters(channel):
            if wanted is not None and letter.dead_id not in wanted:
                continue
            dead_stream = letter.source_stream + DEAD_SUFFIX
            if await self.store.replay(dead_stream, letter.dead_id, self._config.maxlen):
                replayed.append(letter.dead_id)
        return replayed

    async def close(self) -> None:
        await self.store.close()
