"""Partition leases: which worker of a pool owns which partitions, with expiry and rebalancing.

A lease is a key holding its owner's token with a TTL (``SET NX PX``); the owner renews it
with a compare-and-``PEXPIRE`` script and releases it with compare-and-``DEL``, so a worker
can never extend or drop a lease it lost. Live workers heartbeat into a registry; each aims
at ``ceil(partitions / live workers)`` leases, releasing extras (after its consumers stopped
reading them) and taking free or expired ones. A dead worker stops renewing: its leases and
heartbeat expire and the others take its partitions over.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from typing import Protocol

import redis.asyncio as aioredis

from backbeat.bus.interface import PartitionsChanged
from backbeat.bus.keys import Keys
from backbeat.domain.messages import Channel
from backbeat.observability.logging import get_logger
from backbeat.observability.metrics import bus_lease_changes_total, bus_partitions_owned

log = get_logger(__name__)

_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
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
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 10)
else
  redis.call('ZREM', KEYS[1], ARGV[1])
end
return redis.call('ZRANGE', KEYS[1], 0, -1)
"""


class LeaseStore(Protocol):
    """Where leases and the worker registry of one pool live."""

    async def acquire(self, partition: int, owner: str, ttl_ms: int) -> bool: ...

    async def renew(self, partition: int, owner: str, ttl_ms: int) -> bool: ...

    async def release(self, partition: int, owner: str) -> bool: ...

    async def heartbeat(self, owner: str, ttl_ms: int) -> list[str]:
        """Mark ``owner`` alive for ``ttl_ms`` (0: leave); returns the live workers."""

    async def owners(self, partitions: int) -> dict[int, tuple[str, int]]:
        """Held leases: partition → (owner, milliseconds left)."""

    async def workers(self) -> list[str]:
        """Workers whose heartbeat has not expired (read only)."""


class RedisLeaseStore:
    """Leases as Redis keys, the registry as a sorted set scored by heartbeat expiry."""

    def __init__(self, client: aioredis.Redis, keys: Keys, pool: str) -> None:
        self._redis = client
        self._keys = keys
        self._pool = pool
        self._renew = client.register_script(_RENEW)
        self._release = client.register_script(_RELEASE)
        self._heartbeat = client.register_script(_HEARTBEAT)
        self._workers = client.register_script(_WORKERS)

    async def acquire(self, partition: int, owner: str, ttl_ms: int) -> bool:
        key = self._keys.lease(self._pool, partition)
        return bool(await self._redis.set(key, owner, nx=True, px=ttl_ms))

    async def renew(self, partition: int, owner: str, ttl_ms: int) -> bool:
        key = self._keys.lease(self._pool, partition)
        return bool(await self._renew(keys=[key], args=[owner, ttl_ms]))

    async def release(self, partition: int, owner: str) -> bool:
        key = self._keys.lease(self._pool, partition)
        return bool(await self._release(keys=[key], args=[owner]))

    async def heartbeat(self, owner: str, ttl_ms: int) -> list[str]:
        key = self._keys.workers(self._pool)
        live = await self._heartbeat(keys=[key], args=[owner, ttl_ms])
        return [item.decode() if isinstance(item, bytes) else str(item) for item in live]

    async def workers(self) -> list[str]:
        live = await self._workers(keys=[self._keys.workers(self._pool)])
        return sorted(item.decode() if isinstance(item, bytes) else str(item) for item in live)

    async def owners(self, partitions: int) -> dict[int, tuple[str, int]]:
        keys = [self._keys.lease(self._pool, p) for p in range(partitions)]
        async with self._redis.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.get(key)
                pipe.pttl(key)
            replies = await pipe.execute()
        held: dict[int, tuple[str, int]] = {}
        for partition in range(partitions):
            owner, ttl = replies[2 * partition], replies[2 * partition + 1]
            if owner is not None:
                held[partition] = (owner.decode(), int(ttl))
        return held


class MemoryLeaseStore:
    """Leases in this process, on the monotonic clock (several workers in one process)."""

    def __init__(self) -> None:
        self._leases: dict[int, tuple[str, float]] = {}
        self._workers: dict[str, float] = {}

    def _holder(self, partition: int) -> str | None:
        held = self._leases.get(partition)
        if held is None or held[1] <= time.monotonic():
            self._leases.pop(partition, None)
            return None
        return held[0]

    async def acquire(self, partition: int, owner: str, ttl_ms: int) -> bool:
        if self._holder(partition) is not None:
            return False
        self._leases[partition] = (owner, time.monotonic() + ttl_ms / 1000)
        return True

    async def renew(self, partition: int, owner: str, ttl_ms: int) -> bool:
        if self._holder(partition) != owner:
            return False
        self._leases[partition] = (owner, time.monotonic() + ttl_ms / 1000)
        return True

    async def release(self, partition: int, owner: str) -> bool:
        if self._holder(partition) != owner:
            return False
        del self._leases[partition]
        return True

    async def heartbeat(self, owner: str, ttl_ms: int) -> list[str]:
        now = time.monotonic()
        if ttl_ms > 0:
            self._workers[owner] = now + ttl_ms / 1000
        else:
            self._workers.pop(owner, None)
        self._workers = {name: until for name, until in self._workers.items() if until > now}
        return sorted(self._workers)

    async def workers(self) -> list[str]:
        now = time.monotonic()
        return sorted(name for name, until in self._workers.items() if until > now)

    async def owners(self, partitions: int) -> dict[int, tuple[str, int]]:
        now = time.monotonic()
        held: dict[int, tuple[str, int]] = {}
        for partition in range(partitions):
            owner = self._holder(partition)
            if owner is not None:
                held[partition] = (owner, int((self._leases[partition][1] - now) * 1000))
        return held


class PartitionLeases:
    """One worker's leases in a pool; ``on_change`` is told every new owned set."""

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
        self._on_change = on_change
        self._channels = channels
        self._owned: frozenset[int] = frozenset()
        self._stopped = asyncio.Event()

    @property
    def owned(self) -> frozenset[int]:
        return self._owned

    async def _set_owned(self, owned: frozenset[int]) -> None:
        self._owned = owned
        for channel in self._channels:
            bus_partitions_owned.labels(channel.value).set(len(owned))
        try:
            await self._on_change(owned)
        except Exception:
            log.exception("partition change handler failed", worker=self.worker_id)

    async def tick(self) -> None:
        live = await self._store.heartbeat(self.worker_id, self._ttl_ms)
        if self.worker_id not in live:
            live.append(self.worker_id)
        target = math.ceil(self._partitions / len(live))
        lost = frozenset(
            [p for p in self._owned if not await self._store.renew(p, self.worker_id, self._ttl_ms)]
        )
        if lost:
            bus_lease_changes_total.labels("lost").inc(len(lost))
            log.warning("partition leases lost", worker=self.worker_id, partitions=sorted(lost))
            await self._set_owned(self._owned - lost)
        bus_lease_changes_total.labels("renewed").inc(len(self._owned))
        if len(self._owned) > target:
            extras = frozenset(sorted(self._owned)[target:])
            await self._set_owned(self._owned - extras)
            for partition in extras:
                await self._store.release(partition, self.worker_id)
            bus_lease_changes_total.labels("released").inc(len(extras))
            log.info("partitions released", worker=self.worker_id, partitions=sorted(extras))
        elif len(self._owned) < target:
            await self._acquire(target, sorted(live).index(self.worker_id))

    async def _acquire(self, target: int, rank: int) -> None:
        if self._stopped.is_set():
            return
        held = await self._store.owners(self._partitions)
        start = (rank * target) % self._partitions
        order = [(start + i) % self._partitions for i in range(self._partitions)]
        gained: set[int] = set()
        for partition in order:
            if len(self._owned) + len(gained) >= target:
                break
            if partition in held:
                continue
            if await self._store.acquire(partition, self.worker_id, self._ttl_ms):
                gained.add(partition)
        if gained:
            bus_lease_changes_total.labels("acquired").inc(len(gained))
            log.info("partitions acquired", worker=self.worker_id, partitions=sorted(gained))
            await self._set_owned(self._owned | gained)

    async def run(self) -> None:
        """Tick until stopped; if the store is unreachable for a whole TTL, give up the leases.

        Leases that could not be renewed for a TTL may already belong to another worker, so
        consuming them must stop even before the store answers again.
        """
        self._stopped.clear()
        interval = self._ttl_ms / 3000
        last_ok = time.monotonic()
        while not self._stopped.is_set():
            try:
                await self.tick()
                last_ok = time.monotonic()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("lease round failed", worker=self.worker_id)
                if self._owned and (time.monotonic() - last_ok) * 1000 >= self._ttl_ms:
                    bus_lease_changes_total.labels("lost").inc(len(self._owned))
                    log.warning(
                        "partition leases presumed lost: store unreachable for a lease TTL",
                        worker=self.worker_id,
                        partitions=sorted(self._owned),
                    )
                    await self._set_owned(frozenset())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopped.wait(), interval)

    async def stop(self) -> None:
        self._stopped.set()
        owned = self._owned
        await self._set_owned(frozenset())
        for partition in owned:
            await self._store.release(partition, self.worker_id)
        if owned:
            bus_lease_changes_total.labels("released").inc(len(owned))
        await self._store.heartbeat(self.worker_id, 0)
