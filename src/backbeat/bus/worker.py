"""A worker of a lease pool: consumers of the pool's channels that follow its leases.

An audio worker reads ``discord-bot:commands`` and ``discord-bot:to-audio`` only for the
partitions it holds leases on, and its consumers use the leases as their guard: they hand a
message to a handler only under a current lease token, which :attr:`Delivery.fence
<backbeat.bus.interface.Delivery.fence>` carries to the handler.

Changes of the owned set are applied by the leases' reconcile task, never by the renewal
loop: for lost or released partitions their consumers stop first (the handlers in progress
finish), then ``on_change`` runs with the new owned set (restore gained guilds' players from
SQL there), then the gained partitions' consumers start, taking back what the previous
owners left pending, oldest first. A released lease is deleted only after that.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from backbeat.bus.interface import Batching, Handler, PartitionsChanged
from backbeat.bus.keys import AUDIO_POOL
from backbeat.bus.leases import PartitionLeases
from backbeat.bus.streams import StreamBus
from backbeat.domain.messages import Channel


class LeasedWorker:
    """Consumers for ``handlers``' channels over the partitions this worker's leases cover."""

    def __init__(
        self,
        bus: StreamBus,
        *,
        worker_id: str,
        handlers: Mapping[Channel, Handler],
        batching: Mapping[Channel, Batching] | None = None,
        on_change: PartitionsChanged | None = None,
        pool: str = AUDIO_POOL,
        ttl_ms: int | None = None,
    ) -> None:
        self.worker_id = worker_id
        self.pool = pool
        self._on_change = on_change
        self.leases: PartitionLeases = bus.leases(pool, worker_id, self._changed, ttl_ms=ttl_ms)
        self.consumers = {
            channel: bus.consume(
                channel,
                handler,
                consumer=worker_id,
                exclusive=True,
                guard=self.leases,
                batching=(batching or {}).get(channel),
            )
            for channel, handler in handlers.items()
        }
        self._owned: frozenset[int] = frozenset()

    @property
    def owned(self) -> frozenset[int]:
        """Partitions whose leases this worker holds and is not releasing."""
        return self.leases.owned

    @property
    def consuming(self) -> frozenset[int]:
        """Partitions whose consumers run (follows :attr:`owned` once changes are applied)."""
        return self._owned

    async def _assign(self, partitions: frozenset[int]) -> None:
        await asyncio.gather(*(c.assign(partitions) for c in self.consumers.values()))

    async def _changed(self, owned: frozenset[int]) -> None:
        kept = self._owned & owned
        if kept != self._owned:
            await self._assign(kept)
            self._owned = kept
        try:
            if self._on_change is not None:
                await self._on_change(owned)
        finally:  # a failed restore is logged by the leases; the partitions are served anyway
            if kept != owned:
                await self._assign(owned)
            self._owned = owned

    async def run(self) -> None:
        """Hold leases and consume until :meth:`stop`; cancelling it acts like a crash."""
        tasks = [asyncio.create_task(c.run()) for c in self.consumers.values()]
        tasks.append(asyncio.create_task(self.leases.run()))
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def stop(self) -> None:
        """Stop consuming, release every lease and leave the pool."""
        await self.leases.stop()
        for consumer in self.consumers.values():
            await consumer.stop()
