"""A worker of a lease pool: consumers of the pool's channels that follow its leases.

An audio worker reads ``discord-bot:commands`` and ``discord-bot:to-audio`` only for the
partitions it holds leases on. When it gains partitions, ``on_change`` runs first (restore
those guilds' players from SQL), then their consumers start, taking over what the previous
owner left pending. When it loses or gives up partitions, their consumers stop first
(finishing the message in hand), then ``on_change`` runs and the lease is released.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from backbeat.bus.interface import Handler, PartitionsChanged
from backbeat.bus.keys import AUDIO_POOL
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
        on_change: PartitionsChanged | None = None,
        pool: str = AUDIO_POOL,
        ttl_ms: int | None = None,
    ) -> None:
        self.worker_id = worker_id
        self._on_change = on_change
        self.consumers = {
            channel: bus.consume(channel, handler, consumer=worker_id, exclusive=True)
            for channel, handler in handlers.items()
        }
        self.leases = bus.leases(pool, worker_id, self._changed, ttl_ms=ttl_ms)
        self._owned: frozenset[int] = frozenset()

    @property
    def owned(self) -> frozenset[int]:
        return self.leases.owned

    async def _assign(self, partitions: frozenset[int]) -> None:
        for consumer in self.consumers.values():
            await consumer.assign(partitions)

    async def _changed(self, owned: frozenset[int]) -> None:
        kept = self._owned & owned
        if kept != self._owned:
            await self._assign(kept)
        if self._on_change is not None:
            await self._on_change(owned)
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
