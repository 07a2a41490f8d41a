"""The consumer engine: one reader per partition, per-guild lanes, acknowledging after handling.

A reader works in two phases:

1. **Take-back** (sequential). It lists every entry pending for the group in its partition,
   whoever holds it, and takes them back one at a time, oldest first: claim that one entry
   (``XCLAIM``; at once under a lease or for its own, after ``claim_idle_ms`` for other
   consumers' ones otherwise), hand it to the handler, acknowledge it, then the next. This
   is the recovery path: handling in stream order keeps every guild's order across crashes
   and lease moves without any bookkeeping, and only the entry in a handler's hands when a
   consumer dies gains a delivery, so a poison message is dead-lettered after
   ``max_deliveries`` without the ones behind it sharing its fate.
2. **Lanes.** It then reads new entries and dispatches each to its guild's FIFO lane (one
   task per guild with work, ending when its lane is empty). A guild's messages are handled
   one at a time in stream order; different guilds' messages are handled concurrently, so
   one guild's slow command never delays the others. Each entry is acknowledged as soon as
   its own handler returned. At most ``config.batch`` entries are in flight per partition;
   the reader reads more only when there is room.

With a lease guard the reader starts under the guard's current token and re-checks it
before handing each entry (take-back and lanes): the moment the token is gone or changed it
hands nothing more, lets handlers in progress finish, leaves the rest pending and starts
over (waiting for a token, then take-back), or ends when the partition is unassigned. Its
reads of new entries are fenced (``guard.read_fence``): the store delivers entries only
while the lease is still held, so a read delayed past a lease move takes nothing.

Each entry ends one way: handled and acknowledged; rejected by the schema (dead letter);
handler failing ``max_deliveries`` times (dead letter); duplicate id or stale UI state
(acknowledged, skipped). Nothing raised by a handler or found in a message stops the reader.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections import deque
from collections.abc import Awaitable, Iterable
from typing import TypeVar

from backbeat.bus.batcher import Acks, Batcher
from backbeat.bus.dedupe import LatestState, RecentIds
from backbeat.bus.interface import Batching, BusConfig, Delivery, Handler, LeaseGuard
from backbeat.bus.keys import Keys
from backbeat.bus.store import Entry, FenceCheck, StreamStore
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
_T = TypeVar("_T")

#: How often a guarded reader without a token looks again (a local check).
_TOKEN_POLL_S = 0.05


class _PartitionReader:
    """Reads one partition of one channel for one group member, until stopped."""

    def __init__(self, owner: StreamConsumer, partition: int) -> None:
        self._owner = owner
        self.partition = partition
        self.stream = owner.keys.stream(owner.channel, partition)
        self._stop_requested = False
        self._stopping = asyncio.Event()
        self._token: int | None = None
        self._fence: FenceCheck | None = None
        self._halted = False
        self._failure: Exception | None = None
        self._lanes: dict[int, deque[tuple[Entry, Envelope]]] = {}
        self._lane_tasks: dict[int, asyncio.Task[None]] = {}
        self._in_flight = 0
        self._room = asyncio.Event()
        name = f"bus:{owner.channel.value}:{partition}:{owner.consumer_name}"
        self._batcher = owner.batcher
        self._acks = Acks(owner.store, self.stream, owner.group)
        self._task = asyncio.create_task(self._run(), name=name)

    @property
    def in_flight(self) -> int:
        """Entries dispatched to lanes and not finished yet."""
        return self._in_flight

    async def stop(self) -> None:
        """Hand nothing more; let the handlers in progress finish (and acknowledge), then end.

        The reader is never cancelled in the middle of a claim, a handler or an
        acknowledgement: it is interrupted only while it waits (for new entries, for room,
        for a token, between retries). A wait for new entries on Redis may be cancelled
        after the server delivered entries to this consumer: they stay pending under its
        name, and the next take-back of the partition (by any reader) handles them in stream
        order before anything newer, so nothing is lost or reordered.

        Handlers still busy after half the lease TTL are cancelled, their entries left
        pending for the next owner, so a stuck handler cannot hold a partition hostage.
        """
        self._stop_requested = True
        self._stopping.set()
        grace = self._owner.stop_grace_s
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
        self._stop_requested = True
        self._stopping.set()
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    # -- waiting --------------------------------------------------------------------------

    async def _unless_stopped(self, awaitable: Awaitable[_T]) -> tuple[bool, _T | None]:
        """Await ``awaitable`` unless :meth:`stop` comes first: ``(finished, result)``."""
        task = asyncio.ensure_future(awaitable)
        if self._stop_requested:
            task.cancel()
        else:
            stopping = asyncio.ensure_future(self._stopping.wait())
            try:
                await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
            except asyncio.CancelledError:
                task.cancel()
                raise
            finally:
                stopping.cancel()
            if task.done():
                return True, task.result()
            task.cancel()
        await asyncio.wait({task})  # raises only if this reader itself is cancelled
        if not task.cancelled() and task.exception() is None:
            return True, task.result()  # it finished before the cancellation landed
        return False, None

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    def _current(self) -> bool:
        """May this reader hand another entry to the handler now?"""
        if self._halted or self._stop_requested:
            return False
        guard = self._owner.guard
        if guard is not None and guard.token(self.partition) != self._token:
            self._halted = True
            log.info(
                "bus lease token gone or changed; handing nothing more",
                channel=self._owner.channel.value,
                partition=self.partition,
                token=self._token,
            )
            return False
        return True

    async def _await_token(self) -> None:
        guard = self._owner.guard
        self._token = None
        self._fence = None
        if guard is None:
            return
        while not self._stop_requested:
            self._token = guard.token(self.partition)
            if self._token is not None:
                self._fence = guard.read_fence(self.partition, self._token)
                return
            await self._pause(_TOKEN_POLL_S)

    # -- the reader's life ----------------------------------------------------------------

    async def _run(self) -> None:
        """Consume; after a storage error (Redis down…) wait and start over with take-back."""
        backoff = 0.1
        try:
            while not self._stop_requested:
                try:
                    await self._consume()
                    backoff = 0.1
                except asyncio.CancelledError:
                    raise
                except Exception:
                    self._owner.read_failures += 1
                    log.exception(
                        "bus reader failed; retrying",
                        channel=self._owner.channel.value,
                        partition=self.partition,
                        retry_in_s=backoff,
                    )
                    await self._pause(backoff)
                    backoff = min(backoff * 2, 5.0)
        finally:
            await self._cancel_lanes()

    async def _consume(self) -> None:
        """One run under one token: take-back, then lanes, until halted or stopped."""
        owner = self._owner
        self._halted = False
        self._failure = None
        await self._await_token()
        if self._stop_requested:
            return
        try:
            await owner.store.ensure_group(self.stream, owner.group)
            await self._take_back()
            await self._read_new()
        except asyncio.CancelledError:
            raise
        except Exception:
            self._halted = True
            await self._drain()
            raise
        await self._drain()
        if self._failure is not None:
            raise self._failure
        if not self._stop_requested:
            await self._pause(_TOKEN_POLL_S)  # halted: start over under the next token

    async def _take_back(self) -> None:
        """Handle every entry pending in the partition, oldest first, one at a time.

        Under a lease (``exclusive``) each is claimed at once, own ones included, so only
        the entry about to be handled gains a delivery. Otherwise own entries are taken at
        once and other consumers' ones once idle for ``claim_idle_ms``; the reader waits up
        to twice that for them before it reads new entries.
        """
        owner = self._owner
        me = owner.consumer_name
        idle_ms = owner.config.claim_idle_ms
        deadline = time.monotonic() + 2 * idle_ms / 1000
        reclaimed = 0
        while self._current():
            pending = await owner.store.pending(self.stream, owner.group)
            progressed = waiting = False
            for info in pending:
                if not self._current():
                    break
                min_idle = 0 if owner.exclusive or info.consumer == me else idle_ms
                if info.idle_ms < min_idle:
                    waiting = True
                    continue
                entry = await owner.store.claim_entry(
                    self.stream, owner.group, me, info.entry_id, min_idle
                )
                if entry is None:
                    continue
                progressed = True
                if info.consumer != me:
                    reclaimed += 1
                    bus_messages_reclaimed_total.labels(owner.channel.value).inc()
                await self._handle(entry)
            if progressed:
                continue
            if owner.exclusive or not waiting or time.monotonic() >= deadline:
                break
            await self._pause(min(idle_ms / 4000, 1.0))
        if reclaimed:
            log.info(
                "bus reclaimed pending messages",
                channel=owner.channel.value,
                partition=self.partition,
                count=reclaimed,
            )

    async def _claim_idle(self) -> None:
        """Non-exclusive readers, now and then: take back entries idle for ``claim_idle_ms``
        (another member died holding them), oldest first, with no lane in flight."""
        owner = self._owner
        idle_ms = owner.config.claim_idle_ms
        for info in await owner.store.pending(self.stream, owner.group):
            if not self._current():
                return
            if info.idle_ms < idle_ms:
                continue
            entry = await owner.store.claim_entry(
                self.stream, owner.group, owner.consumer_name, info.entry_id, idle_ms
            )
            if entry is not None:
                bus_messages_reclaimed_total.labels(owner.channel.value).inc()
                await self._handle(entry)

    async def _read_new(self) -> None:
        """Read new entries into per-guild lanes while there is room.

        Under a guard each read is fenced (:class:`~backbeat.bus.store.FenceCheck`): the
        store delivers entries only if the lease is still held with this reader's token when
        the read executes, so a read delayed past a lease move (a stalled event loop, a slow
        connection) takes nothing, rather than leaving entries pending under an owner that
        hands nothing more."""
        owner = self._owner
        config = owner.config
        last_claim = time.monotonic()
        # batch mode reads again once half the room is free (fewer, fuller reads under load)
        least = max(1, config.batch // 2) if owner.batching is not None else 1
        while self._current():
            room = config.batch - self._in_flight
            if room <= 0 or (room < least and self._in_flight > 0):
                self._room.clear()
                await self._unless_stopped(self._room.wait())
                continue
            finished, entries = await self._unless_stopped(
                owner.store.read_new(
                    self.stream,
                    owner.group,
                    owner.consumer_name,
                    room,
                    config.block_ms,
                    fence=self._fence,
                )
            )
            if not finished:
                return
            if entries is None:  # the store found the lease gone: nothing was read
                self._halted = True
                log.info(
                    "bus lease no longer held at the store; reading nothing more",
                    channel=owner.channel.value,
                    partition=self.partition,
                    token=self._token,
                )
                return
            for entry in entries or ():
                if not self._current():
                    break  # the rest stays pending under this consumer: next take-back
                message = await self._screen(entry)
                if message is not None:
                    self._dispatch(entry, message)
            if not owner.exclusive and (time.monotonic() - last_claim) * 1000 >= (
                config.claim_idle_ms
            ):
                await self._drain()
                await self._claim_idle()
                last_claim = time.monotonic()

    # -- lanes ----------------------------------------------------------------------------

    def _dispatch(self, entry: Entry, message: Envelope) -> None:
        guild = message.guild_id
        lane = self._lanes.get(guild)
        if lane is None:
            lane = self._lanes[guild] = deque()
            self._lane_tasks[guild] = asyncio.create_task(
                self._lane(guild, lane), name=f"{self._task.get_name()}:guild:{guild}"
            )
        lane.append((entry, message))
        self._in_flight += 1

    async def _lane(self, guild: int, lane: deque[tuple[Entry, Envelope]]) -> None:
        """Hand one guild's entries to the handler in order until the lane is empty."""
        try:
            while lane and self._current():
                group = self._group(lane)
                try:
                    if group is None:
                        await self._deliver(*lane[0])
                        handed = 1
                    else:
                        handed = await self._deliver_group(group)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    log.exception(
                        "bus lane failed; the partition starts over from its pending entries",
                        channel=self._owner.channel.value,
                        partition=self.partition,
                        guild_id=guild,
                    )
                    self._failure = self._failure or exc
                    self._halted = True
                    break
                for _ in range(handed):
                    lane.popleft()
                    self._in_flight -= 1
                self._room.set()
                if group is not None and handed < len(group):
                    break  # the lease is gone: the rest stays pending
        finally:
            self._in_flight -= len(lane)  # left pending: the next take-back hands them
            lane.clear()
            self._lanes.pop(guild, None)
            self._lane_tasks.pop(guild, None)
            self._room.set()

    async def _drain(self) -> None:
        """Wait until every lane has finished (they hand nothing new once halted)."""
        while self._lane_tasks:
            await asyncio.gather(*self._lane_tasks.values(), return_exceptions=True)

    async def _cancel_lanes(self) -> None:
        tasks = list(self._lane_tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # -- batch mode -----------------------------------------------------------------------

    def _group(self, lane: deque[tuple[Entry, Envelope]]) -> list[tuple[Entry, Envelope]] | None:
        """The lane's head entries that go to the batch handler together (None: the head
        goes to the single handler)."""
        batching = self._owner.batching
        if batching is None or not batching.accepts(lane[0][1]):
            return None
        group = [lane[0]]
        while (
            len(group) < min(len(lane), batching.group_max)
            and batching.accepts(lane[len(group)][1])
            and batching.joins(group[-1][1], lane[len(group)][1])
        ):
            group.append(lane[len(group)])
        return group

    async def _deliver_group(self, group: list[tuple[Entry, Envelope]]) -> int:
        """Hand a guild's group to the batcher and acknowledge each entry once it is done;
        an entry whose batch failed goes to the single handler (retries, dead letters).
        Returns how many entries were disposed of (fewer when the lease went)."""
        owner = self._owner
        assert self._batcher is not None
        wanted: list[tuple[Entry, Envelope]] = []
        deliveries: list[Delivery] = []
        now = time.time()
        for entry, message in group:
            if owner.skip_reason(message) is not None:
                continue  # the single path below acknowledges and counts it
            owner.latency.observe(max(0.0, now - message.ts))
            wanted.append((entry, message))
            deliveries.append(
                Delivery(
                    message,
                    owner.channel,
                    self.partition,
                    entry.entry_id,
                    entry.deliveries,
                    fence=self._token,
                    guard=owner.guard,
                )
            )
        submitted = iter(self._batcher.submit(deliveries))
        handed = 0
        for entry, message in group:
            if not wanted or wanted[0][0] is not entry:
                await self._deliver(entry, message)  # duplicate or stale: acknowledged
                handed += 1
                continue
            wanted.pop(0)
            _, future = next(submitted)
            try:
                await future
            except asyncio.CancelledError:
                raise
            except Exception:
                if not self._current():
                    return handed  # left pending: the next owner hands it
                await self._deliver(entry, message, screened=True)  # alone, with retries
                handed += 1
                continue
            await self._acks.ack(entry.entry_id)
            owner.handled(message)
            owner.handled_ok.inc()
            handed += 1
        return handed

    # -- one entry ------------------------------------------------------------------------

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

    async def _screen(self, entry: Entry) -> Envelope | None:
        """Decode an entry; dispose of what must not reach a handler (None then)."""
        owner = self._owner
        channel = owner.channel.value
        if entry.data is None:
            await owner.store.ack(self.stream, owner.group, [entry.entry_id])
            log.warning("bus entry trimmed before handling", channel=channel, id=entry.entry_id)
            return None
        if entry.deliveries > owner.config.max_deliveries:
            await self._dead_letter(
                entry, "max_deliveries", f"delivered {entry.deliveries} times without ack"
            )
            return None
        message = decode(owner.channel, entry.data)
        if isinstance(message, Rejection):
            bus_messages_rejected_total.labels(channel, message.reason).inc()
            await self._dead_letter(entry, message.reason, message.detail)
            return None
        return message

    async def _handle(self, entry: Entry) -> None:
        """Take-back: screen and deliver one entry in place."""
        message = await self._screen(entry)
        if message is not None and self._current():
            await self._deliver(entry, message)

    async def _deliver(self, entry: Entry, message: Envelope, *, screened: bool = False) -> None:
        """Hand a decoded entry to the handler (retrying in place) and acknowledge it.

        Called only right after :meth:`_current` said yes; each retry checks again.
        ``screened``: the duplicate and stale checks were made (a failed batch's entry)."""
        owner = self._owner
        channel = owner.channel.value
        outcome = None if screened else owner.skip_reason(message)
        if outcome is not None:
            await owner.store.ack(self.stream, owner.group, [entry.entry_id])
            bus_messages_handled_total.labels(channel, outcome).inc()
            return
        owner.latency.observe(max(0.0, time.time() - message.ts))
        delivery = Delivery(
            message,
            owner.channel,
            self.partition,
            entry.entry_id,
            entry.deliveries,
            fence=self._token,
            guard=owner.guard,
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
                    if not self._current():
                        return  # the lease is gone: the next owner decides (left pending)
                    if attempts >= owner.config.max_deliveries:
                        bus_messages_handled_total.labels(channel, "error").inc()
                        await self._dead_letter(
                            dataclasses.replace(entry, deliveries=attempts),
                            "handler_error",
                            repr(exc),
                        )
                        return
                    attempts += 1
                    await self._pause(min(0.01 * 2**attempts, 1.0))
                    if not self._current():
                        return  # left pending: the next owner retries it
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
        guard: LeaseGuard | None = None,
        batching: Batching | None = None,
    ) -> None:
        self.store = store
        self.keys = keys
        self.config = config
        self.channel = channel
        self.handler = handler
        #: Batch mode (the lanes hand accepted entries to a batch handler), None: one by one.
        self.batching = batching
        #: One batcher for every partition: a batch takes what all the lanes have ready.
        self.batcher = (
            None
            if batching is None
            else Batcher(batching.handler, channel=channel.value, name=f"bus:{channel.value}")
        )
        self.group = group
        self.consumer_name = consumer
        self.exclusive = exclusive
        self.guard = guard
        self._seen = RecentIds(dedupe_size)
        #: Storage errors readers retried after (Redis unreachable, timed out…).
        self.read_failures = 0
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

    @property
    def stop_grace_s(self) -> float:
        """How long a stopping reader waits for its handlers: half the lease TTL (the
        guard's, which a worker may have chosen apart from ``config.lease_ttl_ms``)."""
        ttl_ms = self.config.lease_ttl_ms if self.guard is None else self.guard.ttl_ms
        return ttl_ms / 2000

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
                gone = [self._readers.pop(p) for p in sorted(self._assigned - chosen)]
                await asyncio.gather(*(reader.stop() for reader in gone))
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
            if self.batcher is not None:
                await self.batcher.cancel()
            raise

    async def stop(self) -> None:
        async with self._lock:
            readers = list(self._readers.values())
            self._readers.clear()
            self._running = False
            await asyncio.gather(*(reader.stop() for reader in readers))
            self._done.set()
