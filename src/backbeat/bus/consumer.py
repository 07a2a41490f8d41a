"""The consumer engine: one sequential reader per partition, acknowledging after the handler.

Per partition a reader first takes back what is unfinished (its own pending entries, then
other consumers' ones through claiming), then reads new entries, handling them one at a time
in stream order, so one guild's messages are never handled concurrently or out of order.

Each entry ends one way: handled and acknowledged; rejected by the schema (dead letter);
handler failing ``max_deliveries`` times (dead letter); duplicate id or stale UI state
(acknowledged, skipped). Nothing raised by a handler or found in a message stops the reader.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import Iterable

from backbeat.bus.dedupe import LatestState, RecentIds
from backbeat.bus.interface import BusConfig, Delivery, Handler
from backbeat.bus.keys import Keys
from backbeat.bus.store import Entry, StreamStore
from backbeat.domain.messages import Channel, Envelope, Rejection, decode
from backbeat.domain.messages.ui import UiCreate, UiDelete, UiError, UiUpdate
from backbeat.observability.logging import get_logger, log_context
from backbeat.observability.metrics import (
    bus_delivery_latency_seconds,
    bus_handle_duration_seconds,
    bus_messages_dead_lettered_total,
    bus_messages_handled_total,
    bus_messages_reclaimed_total,
    bus_messages_rejected_total,
)

log = get_logger(__name__)

_UI_TYPES = (UiCreate, UiUpdate, UiError, UiDelete)


class _PartitionReader:
    """Reads one partition of one channel for one group member, until stopped."""

    def __init__(self, owner: StreamConsumer, partition: int) -> None:
        self._owner = owner
        self.partition = partition
        self.stream = owner.keys.stream(owner.channel, partition)
        self._stop_requested = False
        self._handling = False
        self._task = asyncio.create_task(
            self._run(), name=f"bus:{owner.channel.value}:{partition}:{owner.consumer_name}"
        )

    async def stop(self) -> None:
        """Let the message in hand finish (and be acknowledged), then end.

        A handler still busy after half the lease TTL is cancelled, its message left pending
        for the next owner, so a stuck handler cannot hold a partition hostage.
        """
        self._stop_requested = True
        if not self._handling:
            self._task.cancel()
        grace = self._owner.config.lease_ttl_ms / 2000
        try:
            await asyncio.wait_for(asyncio.shield(self._task), grace)
        except TimeoutError:
            log.warning(
                "bus handler did not finish in time; abandoning its message",
                channel=self._owner.channel.value,
                partition=self.partition,
                grace_s=grace,
            )
            await self.abort()
        except asyncio.CancelledError:
            if not self._task.done():
                raise

    async def abort(self) -> None:
        """End now; whatever is in hand stays pending for the next owner."""
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def _run(self) -> None:
        """Consume, and after a storage error (Redis down…) wait and start over."""
        backoff = 0.1
        while not self._stop_requested:
            try:
                await self._consume()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception(
                    "bus reader failed; retrying",
                    channel=self._owner.channel.value,
                    partition=self.partition,
                    retry_in_s=backoff,
                )
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)

    async def _consume(self) -> None:
        owner = self._owner
        await owner.store.ensure_group(self.stream, owner.group)
        await self._recover()
        last_claim = time.monotonic()
        while not self._stop_requested:
            entries = await owner.store.read_new(
                self.stream,
                owner.group,
                owner.consumer_name,
                owner.config.batch,
                owner.config.block_ms,
            )
            for entry in entries:
                if self._stop_requested:
                    return
                await self._handle(entry)
            idle_ms = owner.config.claim_idle_ms
            if not owner.exclusive and (time.monotonic() - last_claim) * 1000 >= idle_ms:
                last_claim = time.monotonic()
                await self._claim(idle_ms)

    async def _recover(self) -> None:
        """Handle what earlier deliveries left unacknowledged, before anything new.

        Entries are taken back one at a time: only the oldest unacknowledged entry of a
        partition can have been in a handler's hands when its consumer died, so only its
        delivery count grows with each crash, and a poison message is dead-lettered after
        ``max_deliveries`` without the ones queued behind it sharing its fate.
        """
        owner = self._owner
        while not self._stop_requested and (
            own := await owner.store.read_own_pending(
                self.stream, owner.group, owner.consumer_name, 1
            )
        ):
            await self._handle(own[0])
        if owner.exclusive:
            await self._claim(0)
            return
        idle_ms = owner.config.claim_idle_ms
        deadline = time.monotonic() + 2 * idle_ms / 1000
        while not self._stop_requested:
            if await self._claim(idle_ms):
                continue
            if await owner.store.pending_count(self.stream, owner.group) == 0:
                return
            if time.monotonic() >= deadline:
                return
            await asyncio.sleep(min(idle_ms / 4000, 1.0))

    async def _claim(self, min_idle_ms: int) -> int:
        """Take over and handle other consumers' idle entries, oldest first; returns how many."""
        owner = self._owner
        total = 0
        while not self._stop_requested:
            claimed = await owner.store.claim(
                self.stream, owner.group, owner.consumer_name, min_idle_ms, 1
            )
            if not claimed:
                break
            total += 1
            bus_messages_reclaimed_total.labels(owner.channel.value).inc()
            await self._handle(claimed[0])
        if total:
            log.info(
                "bus reclaimed pending messages",
                channel=owner.channel.value,
                partition=self.partition,
                count=total,
            )
        return total

    async def _dead_letter(self, entry: Entry, reason: str, detail: str) -> None:
        owner = self._owner
        await owner.store.dead_letter(
            self.stream,
            owner.group,
            entry,
            reason=reason,
            detail=detail,
            maxlen=owner.config.maxlen,
        )
        bus_messages_dead_lettered_total.labels(owner.channel.value, reason).inc()
        log.warning(
            "bus message dead-lettered",
            channel=owner.channel.value,
            partition=self.partition,
            entry_id=entry.entry_id,
            reason=reason,
            detail=detail,
            deliveries=entry.deliveries,
        )

    async def _handle(self, entry: Entry) -> None:
        self._handling = True
        try:
            await self._handle_entry(entry)
        finally:
            self._handling = False

    async def _handle_entry(self, entry: Entry) -> None:
        owner = self._owner
        channel = owner.channel.value
        if entry.data is None:
            await owner.store.ack(self.stream, owner.group, [entry.entry_id])
            log.warning("bus entry trimmed before handling", channel=channel, id=entry.entry_id)
            return
        if entry.deliveries > owner.config.max_deliveries:
            await self._dead_letter(
                entry, "max_deliveries", f"delivered {entry.deliveries} times without ack"
            )
            return
        message = decode(owner.channel, entry.data)
        if isinstance(message, Rejection):
            bus_messages_rejected_total.labels(channel, message.reason).inc()
            await self._dead_letter(entry, message.reason, message.detail)
            return
        outcome = owner.skip_reason(message)
        if outcome is not None:
            await owner.store.ack(self.stream, owner.group, [entry.entry_id])
            bus_messages_handled_total.labels(channel, outcome).inc()
            return
        owner.latency.observe(max(0.0, time.time() - message.ts))
        delivery = Delivery(
            message, owner.channel, self.partition, entry.entry_id, entry.deliveries
        )
        attempts = entry.deliveries
        with log_context(guild_id=message.guild_id, request_id=message.id):
            while True:
                started = time.perf_counter()
                try:
                    await owner.handler(delivery)
                    break
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    log.exception("bus handler failed", channel=channel, attempt=attempts)
                    if attempts >= owner.config.max_deliveries:
                        bus_messages_handled_total.labels(channel, "error").inc()
                        await self._dead_letter(
                            dataclasses.replace(entry, deliveries=attempts),
                            "handler_error",
                            repr(exc),
                        )
                        return
                    attempts += 1
                    await asyncio.sleep(min(0.01 * 2**attempts, 1.0))
                finally:
                    owner.duration.observe(time.perf_counter() - started)
        await owner.store.ack(self.stream, owner.group, [entry.entry_id])
        owner.handled(message)
        owner.handled_ok.inc()


class StreamConsumer:
    """A member of a consumer group reading a set of partitions of one channel."""

    def __init__(
        self,
        store: StreamStore,
        keys: Keys,
        config: BusConfig,
        channel: Channel,
        handler: Handler,
        *,
        group: str,
        consumer: str,
        partitions: Iterable[int],
        exclusive: bool,
        dedupe_size: int,
    ) -> None:
        self.store = store
        self.keys = keys
        self.config = config
        self.channel = channel
        self.handler = handler
        self.group = group
        self.consumer_name = consumer
        self.exclusive = exclusive
        self._seen = RecentIds(dedupe_size)
        # Hot-path metric children, resolved once.
        self.handled_ok = bus_messages_handled_total.labels(channel.value, "ok")
        self.latency = bus_delivery_latency_seconds.labels(channel.value)
        self.duration = bus_handle_duration_seconds.labels(channel.value)
        self._latest = LatestState() if channel is Channel.UI_NOW else None
        self._assigned = self._check(partitions)
        self._readers: dict[int, _PartitionReader] = {}
        self._running = False
        self._done = asyncio.Event()
        self._lock = asyncio.Lock()

    def _check(self, partitions: Iterable[int]) -> frozenset[int]:
        chosen = frozenset(partitions)
        count = self.config.partition_count(self.channel)
        bad = sorted(p for p in chosen if not 0 <= p < count)
        if bad:
            raise ValueError(f"{self.channel.value} has partitions 0..{count - 1}, not {bad}")
        return chosen

    @property
    def partitions(self) -> frozenset[int]:
        return self._assigned

    def skip_reason(self, message: Envelope) -> str | None:
        """``duplicate`` or ``stale`` when a decoded message must not reach the handler."""
        if message.id in self._seen:
            return "duplicate"
        if (
            self._latest is not None
            and isinstance(message, _UI_TYPES)
            and not self._latest.accept(message.guild_id, message.payload.state_seq)
        ):
            return "stale"
        return None

    def handled(self, message: Envelope) -> None:
        self._seen.add(message.id)

    async def assign(self, partitions: Iterable[int]) -> None:
        async with self._lock:
            chosen = self._check(partitions)
            if self._running:
                for partition in sorted(self._assigned - chosen):
                    await self._readers.pop(partition).stop()
                for partition in sorted(chosen - self._assigned):
                    self._readers[partition] = _PartitionReader(self, partition)
            self._assigned = chosen

    async def run(self) -> None:
        async with self._lock:
            self._running = True
            self._done.clear()
            for partition in sorted(self._assigned):
                self._readers[partition] = _PartitionReader(self, partition)
        try:
            await self._done.wait()
        except asyncio.CancelledError:
            readers = list(self._readers.values())
            self._readers.clear()
            self._running = False
            for reader in readers:
                await reader.abort()
            raise

    async def stop(self) -> None:
        async with self._lock:
            readers = list(self._readers.values())
            self._readers.clear()
            self._running = False
            for reader in readers:
                await reader.stop()
            self._done.set()
