"""Partition leases: which worker of a pool owns which partitions, one owner at a time.

A lease is a key holding ``<owner>|<fencing token>`` with a TTL. Acquiring is a script that
refuses a held key and otherwise hands out a new token, strictly higher than every earlier
token of the partition (kept in a key that never expires) and at least the server's clock
in milliseconds, so tokens keep rising even after the store lost its data (a Redis without
persistence, a restarted in-process bus beside a persistent SQL database). Renew
(compare-and-``PEXPIRE``) and release (compare-and-``DEL``) compare the whole value, so a
worker can never extend or drop a lease it lost, even one it held earlier.

:class:`PartitionLeases` runs two tasks. The **lease loop** heartbeats, renews every held
lease, marks extras as releasing and acquires free partitions, every third of the TTL;
it never waits for ``on_change`` or for consumers. The **reconcile loop** applies changes:
it calls ``on_change`` with the owned set (the worker stops and starts consumers there) and
then releases the leases of partitions marked releasing. A releasing lease is renewed until
it is released, and its token is withdrawn from the guard at once.

The guard (:meth:`PartitionLeases.token`) is local: the holder notes the monotonic time just
before it sends an acquire or renew; on success the lease is valid locally until
``sent + ttl`` (the store's expiry is later than that, as it started counting later), and
the token is returned only while at least a third of the TTL remains. A message handed
under the guard therefore has a third of the TTL before anyone else can acquire the
partition, provided the clocks of this process and the store advance at the same rate.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import redis.asyncio as aioredis

from backbeat.bus.interface import PartitionsChanged
from backbeat.bus.keys import Keys
from backbeat.bus.store import FenceCheck
from backbeat.domain.messages import Channel
from backbeat.observability.logging import get_logger
from backbeat.observability.metrics import bus_lease_changes_total, bus_partitions_owned

log = get_logger(__name__)

Clock = Callable[[], float]

_ACQUIRE = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local token = math.max(tonumber(redis.call('GET', KEYS[2]) or '0') + 1, now)
local text = string.format('%d', token)
redis.call('SET', KEYS[2], text)
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. text, 'PX', ARGV[2])
return token
"""
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('INCR', KEYS[2])
  return redis.call('DEL', KEYS[1])
end
return 0
"""
_WORKERS = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
return redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. now, '+inf')
"""
_HEARTBEAT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if ARGV[2] ~= '0' then
  if redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1]) == 1 then
    redis.call('INCR', KEYS[2])
  end
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 10)
elseif redis.call('ZREM', KEYS[1], ARGV[1]) == 1 then
  redis.call('INCR', KEYS[2])
end
return redis.call('ZRANGE', KEYS[1], 0, -1)
"""


#: How often a worker between lease rounds looks whether the pool changed (a release, a
#: worker joining or leaving).
CHANGES_POLL_S = 0.2


def lease_value(owner: str, token: int) -> str:
    """What a lease key holds: the owner and its fencing token."""
    return f"{owner}|{token}"


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _owner_of(value: bytes | str) -> str:
    text = _text(value)
    return text.rpartition("|")[0] or text


class LeaseStore(Protocol):
    """Where leases, fencing tokens and the worker registry of one pool live."""

    def clock(self) -> float:
        """Monotonic seconds by which holders time their leases locally."""

    async def acquire(self, partition: int, owner: str, ttl_ms: int) -> int | None:
        """Take a free partition: its new fencing token, or None when it is held."""

    async def renew(self, partition: int, owner: str, token: int, ttl_ms: int) -> bool: ...

    async def release(self, partition: int, owner: str, token: int) -> bool: ...

    async def holds(self, partition: int, owner: str, token: int) -> bool:
        """True when the stored lease is ``owner``'s with ``token`` (one round trip)."""

    def fence(self, partition: int, owner: str, token: int) -> FenceCheck:
        """What a stream store checks, atomically with a group read, for this lease."""

    async def heartbeat(self, owner: str, ttl_ms: int) -> list[str]:
        """Mark ``owner`` alive for ``ttl_ms`` (0: leave); returns the live workers."""

    async def owners(self, partitions: int) -> dict[int, tuple[str, int]]:
        """Held leases: partition → (owner, milliseconds left)."""

    async def workers(self) -> list[str]:
        """Workers whose heartbeat has not expired (read only)."""

    async def changes(self) -> int:
        """A counter that rises whenever a lease is released or a worker joins or leaves the
        pool, so the others rebalance at once instead of at their next round."""


class RedisLeaseStore:
    """Leases as Redis keys, the registry as a sorted set scored by heartbeat expiry."""

    def __init__(self, client: aioredis.Redis, keys: Keys, pool: str) -> None:
        self._redis = client
        self._keys = keys
        self._pool = pool
        self._acquire = client.register_script(_ACQUIRE)
        self._renew = client.register_script(_RENEW)
        self._release = client.register_script(_RELEASE)
        self._heartbeat = client.register_script(_HEARTBEAT)
        self._workers = client.register_script(_WORKERS)

    def clock(self) -> float:
        return time.monotonic()

    async def acquire(self, partition: int, owner: str, ttl_ms: int) -> int | None:
        keys = [self._keys.lease(self._pool, partition), self._keys.fence(self._pool, partition)]
        token = int(await self._acquire(keys=keys, args=[owner, ttl_ms]))
        return token or None

    async def renew(self, partition: int, owner: str, token: int, ttl_ms: int) -> bool:
        key = self._keys.lease(self._pool, partition)
        return bool(await self._renew(keys=[key], args=[lease_value(owner, token), ttl_ms]))

    async def release(self, partition: int, owner: str, token: int) -> bool:
        keys = [self._keys.lease(self._pool, partition), self._keys.changes(self._pool)]
        return bool(await self._release(keys=keys, args=[lease_value(owner, token)]))

    async def holds(self, partition: int, owner: str, token: int) -> bool:
        value = await self._redis.get(self._keys.lease(self._pool, partition))
        return value is not None and _text(value) == lease_value(owner, token)

    def fence(self, partition: int, owner: str, token: int) -> FenceCheck:
        return FenceCheck(self._keys.lease(self._pool, partition), lease_value(owner, token))

    async def heartbeat(self, owner: str, ttl_ms: int) -> list[str]:
        keys = [self._keys.workers(self._pool), self._keys.changes(self._pool)]
        live = await self._heartbeat(keys=keys, args=[owner, ttl_ms])
        return [item.decode() if isinstance(item, bytes) else str(item) for item in live]

    async def workers(self) -> list[str]:
        live = await self._workers(keys=[self._keys.workers(self._pool)])
        return sorted(item.decode() if isinstance(item, bytes) else str(item) for item in live)

    async def changes(self) -> int:
        return int(await self._redis.get(self._keys.changes(self._pool)) or 0)

    async def owners(self, partitions: int) -> dict[int, tuple[str, int]]:
        keys = [self._keys.lease(self._pool, p) for p in range(partitions)]
        async with self._redis.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.get(key)
                pipe.pttl(key)
            replies = await pipe.execute()
        held: dict[int, tuple[str, int]] = {}
        for partition in range(partitions):
            value, ttl = replies[2 * partition], replies[2 * partition + 1]
            if value is not None:
                held[partition] = (_owner_of(value), int(ttl))
        return held


@dataclass
class _MemoryLease:
    owner: str
    token: int
    until: float


class MemoryLeaseStore:
    """Leases in this process (several workers in one process), timed by ``clock``.

    ``clock`` (monotonic seconds; default :func:`time.monotonic`) times expiry for the store
    and for the holders using it, so a test can let time pass without sleeping. Tokens come
    from ``wall_ms`` (default: the system clock in milliseconds) so they keep rising across
    restarts of the process, whose SQL database may remember earlier tokens.
    """

    def __init__(self, clock: Clock = time.monotonic, wall_ms: Callable[[], int] | None = None):
        self._clock = clock
        self._wall_ms = wall_ms or (lambda: time.time_ns() // 1_000_000)
        self._leases: dict[int, _MemoryLease] = {}
        self._fences: dict[int, int] = {}
        self._workers: dict[str, float] = {}
        self._changes = 0

    def clock(self) -> float:
        return self._clock()

    def _held(self, partition: int) -> _MemoryLease | None:
        lease = self._leases.get(partition)
        if lease is None or lease.until <= self._clock():
            self._leases.pop(partition, None)
            return None
        return lease

    def _is(self, partition: int, owner: str, token: int) -> bool:
        lease = self._held(partition)
        return lease is not None and (lease.owner, lease.token) == (owner, token)

    async def acquire(self, partition: int, owner: str, ttl_ms: int) -> int | None:
        if self._held(partition) is not None:
            return None
        token = max(self._fences.get(partition, 0) + 1, self._wall_ms())
        self._fences[partition] = token
        self._leases[partition] = _MemoryLease(owner, token, self._clock() + ttl_ms / 1000)
        return token

    async def renew(self, partition: int, owner: str, token: int, ttl_ms: int) -> bool:
        if not self._is(partition, owner, token):
            return False
        self._leases[partition].until = self._clock() + ttl_ms / 1000
        return True

    async def release(self, partition: int, owner: str, token: int) -> bool:
        if not self._is(partition, owner, token):
            return False
        del self._leases[partition]
        self._changes += 1
        return True

    async def holds(self, partition: int, owner: str, token: int) -> bool:
        return self._is(partition, owner, token)

    def fence(self, partition: int, owner: str, token: int) -> FenceCheck:
        return FenceCheck(
            f"lease:{partition}",
            lease_value(owner, token),
            held=lambda: self._is(partition, owner, token),
        )

    async def heartbeat(self, owner: str, ttl_ms: int) -> list[str]:
        now = self._clock()
        if ttl_ms > 0:
            if owner not in self._workers:
                self._changes += 1
            self._workers[owner] = now + ttl_ms / 1000
        elif self._workers.pop(owner, None) is not None:
            self._changes += 1
        self._workers = {name: until for name, until in self._workers.items() if until > now}
        return sorted(self._workers)

    async def workers(self) -> list[str]:
        now = self._clock()
        return sorted(name for name, until in self._workers.items() if until > now)

    async def changes(self) -> int:
        return self._changes

    async def owners(self, partitions: int) -> dict[int, tuple[str, int]]:
        now = self._clock()
        held: dict[int, tuple[str, int]] = {}
        for partition in range(partitions):
            lease = self._held(partition)
            if lease is not None:
                held[partition] = (lease.owner, int((lease.until - now) * 1000))
        return held


@dataclass
class _Held:
    """A lease this worker holds: its token and until when it is valid by the local clock."""

    token: int
    valid_until: float
    releasing: bool = False


class PartitionLeases:
    """One worker's leases in a pool; ``on_change`` is told every new owned set.

    Implements :class:`~backbeat.bus.interface.Leases` (and so
    :class:`~backbeat.bus.interface.LeaseGuard`).
    """

    def __init__(
        self,
        store: LeaseStore,
        *,
        partitions: int,
        worker_id: str,
        ttl_ms: int,
        on_change: PartitionsChanged,
        channels: tuple[Channel, ...] = (Channel.COMMANDS, Channel.TO_AUDIO),
    ) -> None:
        if ttl_ms < 30:
            raise ValueError("lease TTL must be at least 30 ms")
        self._store = store
        self._partitions = partitions
        self.worker_id = worker_id
        self._ttl_ms = ttl_ms
        self._ttl = ttl_ms / 1000
        self._margin = self._ttl / 3
        self._on_change = on_change
        self._channels = channels
        self._held: dict[int, _Held] = {}
        self._applied: frozenset[int] = frozenset()
        self._applied_tokens: dict[int, int] = {}
        self._dirty = asyncio.Event()
        self._stopping = False
        self._stopped = asyncio.Event()
        self._reconciling = asyncio.Lock()

    @property
    def ttl_ms(self) -> int:
        return self._ttl_ms

    @property
    def owned(self) -> frozenset[int]:
        return frozenset(p for p, held in self._held.items() if not held.releasing)

    @property
    def held(self) -> dict[int, int]:
        """Every lease held (also releasing or locally stale ones): partition → token."""
        return {p: held.token for p, held in self._held.items()}

    @property
    def settled(self) -> bool:
        return self._applied == self.owned and len(self._held) == len(self._applied)

    def token(self, partition: int) -> int | None:
        held = self._held.get(partition)
        if held is None or held.releasing:
            return None
        if held.valid_until - self._store.clock() < self._margin:
            return None
        return held.token

    def read_fence(self, partition: int, token: int) -> FenceCheck:
        return self._store.fence(partition, self.worker_id, token)

    async def verify(self, partition: int, token: int) -> bool:
        return await self._store.holds(partition, self.worker_id, token)

    def _changed(self) -> None:
        self._dirty.set()

    def _drop_expired(self) -> None:
        """Forget leases whose local validity ended: the store has let them go by now."""
        now = self._store.clock()
        expired = sorted(p for p, held in self._held.items() if held.valid_until <= now)
        for partition in expired:
            del self._held[partition]
        if expired:
            bus_lease_changes_total.labels("lost").inc(len(expired))
            log.warning(
                "partition leases expired before they could be renewed",
                worker=self.worker_id,
                partitions=expired,
            )
            self._changed()

    async def tick(self) -> None:
        if self._stopping:  # leaving: keep what is being released alive, nothing more
            self._drop_expired()
            await self._renew()
            return
        live = await self._store.heartbeat(self.worker_id, self._ttl_ms)
        if self.worker_id not in live:
            live.append(self.worker_id)
        self._drop_expired()
        await self._renew()
        if self._stopping:
            return
        owned = self.owned
        target = math.ceil(self._partitions / len(live))
        if len(owned) > target:
            extras = sorted(owned)[target:]
            for partition in extras:
                self._held[partition].releasing = True
            log.info("releasing partitions", worker=self.worker_id, partitions=extras)
            self._changed()
        elif len(owned) < target:
            await self._acquire(target, sorted(live).index(self.worker_id))

    async def _renew(self) -> None:
        leases = list(self._held.items())
        if not leases:
            return
        sent = self._store.clock()
        results = await asyncio.gather(
            *(self._store.renew(p, self.worker_id, held.token, self._ttl_ms) for p, held in leases)
        )
        lost: list[int] = []
        for (partition, held), renewed in zip(leases, results, strict=True):
            if self._held.get(partition) is not held:
                continue  # released meanwhile
            if renewed:
                held.valid_until = sent + self._ttl
            else:
                del self._held[partition]
                lost.append(partition)
        bus_lease_changes_total.labels("renewed").inc(len(leases) - len(lost))
        if lost:
            bus_lease_changes_total.labels("lost").inc(len(lost))
            log.warning("partition leases lost", worker=self.worker_id, partitions=sorted(lost))
            self._changed()

    async def _acquire(self, target: int, rank: int) -> None:
        held = await self._store.owners(self._partitions)
        start = (rank * target) % self._partitions
        order = [(start + i) % self._partitions for i in range(self._partitions)]
        gained: list[int] = []
        for partition in order:
            if len(self.owned) >= target or self._stopping:
                break
            if partition in held or partition in self._held:
                continue
            sent = self._store.clock()
            token = await self._store.acquire(partition, self.worker_id, self._ttl_ms)
            if token is not None:
                self._held[partition] = _Held(token, sent + self._ttl)
                gained.append(partition)
        if gained:
            bus_lease_changes_total.labels("acquired").inc(len(gained))
            log.info("partitions acquired", worker=self.worker_id, partitions=sorted(gained))
            self._changed()

    async def reconcile(self) -> None:
        async with self._reconciling:
            self._dirty.clear()
            tokens = {p: held.token for p, held in self._held.items() if not held.releasing}
            owned = frozenset(tokens)
            # Lost and acquired again since the last change (a stall past the TTL): reported
            # as lost, then gained, so their consumers and players start afresh.
            regained = frozenset(
                p for p in self._applied if p in tokens and self._applied_tokens[p] != tokens[p]
            )
            if regained:
                await self._tell(self._applied - regained)
            if owned != self._applied:
                await self._tell(owned)
            self._applied_tokens = tokens
            releasing = sorted(
                p for p, held in self._held.items() if held.releasing and p not in self._applied
            )
            for partition in releasing:
                held = self._held[partition]
                await self._store.release(partition, self.worker_id, held.token)
                if self._held.get(partition) is held:
                    del self._held[partition]
            if releasing:
                bus_lease_changes_total.labels("released").inc(len(releasing))
                log.info("partitions released", worker=self.worker_id, partitions=releasing)

    async def _tell(self, owned: frozenset[int]) -> None:
        for channel in self._channels:
            bus_partitions_owned.labels(channel.value).set(len(owned))
        try:
            await self._on_change(owned)
        except Exception:
            log.exception("partition change handler failed", worker=self.worker_id)
        self._applied = owned

    async def _lease_loop(self) -> None:
        interval = self._ttl / 3
        seen: int | None = None
        while not self._stopped.is_set():
            try:
                seen = await self._store.changes()
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("lease round failed", worker=self.worker_id)
                self._drop_expired()
            await self._pause(interval, seen)

    async def _pause(self, interval: float, seen: int | None) -> None:
        """Wait until the next round, cut short when another worker released a lease or
        joined or left the pool (polled every :data:`CHANGES_POLL_S`), so a graceful hand-over
        or a new worker moves partitions within a poll instead of a third of the TTL."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + interval
        while not self._stopped.is_set():
            left = deadline - loop.time()
            if left <= 0:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopped.wait(), min(left, CHANGES_POLL_S))
            if seen is None or self._stopped.is_set():
                continue
            try:
                if await self._store.changes() != seen:
                    return
            except asyncio.CancelledError:
                raise
            except Exception:
                return  # the store is unreachable: the next round reports it

    async def _reconcile_loop(self) -> None:
        stopped = asyncio.ensure_future(self._stopped.wait())
        try:
            while not self._stopped.is_set():
                dirty = asyncio.ensure_future(self._dirty.wait())
                await asyncio.wait({dirty, stopped}, return_when=asyncio.FIRST_COMPLETED)
                dirty.cancel()
                if self._stopped.is_set() or self._stopping:
                    return
                try:
                    await self.reconcile()
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("applying partition changes failed", worker=self.worker_id)
                    await asyncio.sleep(self._ttl / 3)
                    self._changed()
        finally:
            stopped.cancel()

    async def run(self) -> None:
        """Run the lease loop and the reconcile loop until :meth:`stop`.

        Cancelling it acts like a crash: nothing is released, the leases expire.
        """
        self._stopped.clear()
        self._stopping = False
        tasks = [
            asyncio.create_task(self._lease_loop(), name=f"leases:{self.worker_id}"),
            asyncio.create_task(self._reconcile_loop(), name=f"reconcile:{self.worker_id}"),
        ]
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def stop(self) -> None:
        """Withdraw every token, stop the consumers (``on_change`` with the empty set),
        release the leases and leave the pool; the lease loop renews until then."""
        self._stopping = True
        for held in self._held.values():
            held.releasing = True
        try:
            await self.reconcile()
            for partition, held in list(self._held.items()):  # released meanwhile elsewhere
                await self._store.release(partition, self.worker_id, held.token)
            self._held.clear()
            await self._store.heartbeat(self.worker_id, 0)
        finally:
            self._stopped.set()
