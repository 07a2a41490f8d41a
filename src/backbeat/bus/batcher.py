"""Batch mode's two helpers of a partition reader: batches of what the lanes have ready, and
acknowledgements sent together.

:class:`Batcher` collects the deliveries the guilds' lanes submit during one turn of the
event loop and hands them to the batch handler in one call; batches run concurrently (a
guild's lane submits its next entries only after its previous ones finished, so no guild is
in two batches). Each delivery's future resolves when the handler says it finished
(:meth:`~backbeat.bus.interface.Delivery.finished`), or when the handler returns (done) or
raises (failed). :class:`Acks` sends the acknowledgements asked for during one turn (and
while one is under way) as one ``XACK`` with many ids.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Callable, Sequence

from backbeat.bus.interface import BatchHandler, Delivery
from backbeat.bus.store import StreamStore
from backbeat.observability.logging import get_logger
from backbeat.observability.metrics import bus_batch_size

log = get_logger(__name__)


def _observe(future: asyncio.Future[None]) -> None:
    """Mark a failure as seen (a lane that stopped early never awaits its future)."""
    if not future.cancelled():
        future.exception()


class Batcher:
    """Hands submitted deliveries to ``handler`` in batches (see the module docstring)."""

    def __init__(self, handler: BatchHandler, *, channel: str, name: str) -> None:
        self._handler = handler
        self._channel = channel
        self._name = name
        self._queued: list[tuple[Delivery, asyncio.Future[None]]] = []
        self._starter: asyncio.Task[None] | None = None
        self._running: set[asyncio.Task[None]] = set()
        self._size = bus_batch_size.labels(channel)
        self.duration_s = 0.0

    def submit(self, deliveries: Sequence[Delivery]) -> list[tuple[Delivery, asyncio.Future[None]]]:
        """Queue deliveries for the next batch; each comes back with its future."""
        loop = asyncio.get_running_loop()
        queued = []
        for delivery in deliveries:
            future: asyncio.Future[None] = loop.create_future()
            future.add_done_callback(_observe)
            settled = dataclasses.replace(delivery, settle=_settler(future))
            queued.append((settled, future))
        self._queued.extend(queued)
        if self._starter is None or self._starter.done():
            self._starter = asyncio.create_task(self._start(), name=f"{self._name}:batches")
        return queued

    async def _start(self) -> None:
        await asyncio.sleep(0)  # the other lanes of this turn submit theirs
        batch, self._queued = self._queued, []
        if batch:
            task = asyncio.create_task(self._run(batch), name=f"{self._name}:batch")
            self._running.add(task)
            task.add_done_callback(self._running.discard)

    async def _run(self, batch: list[tuple[Delivery, asyncio.Future[None]]]) -> None:
        self._size.observe(len(batch))
        started = time.perf_counter()
        try:
            await self._handler([delivery for delivery, _ in batch])
        except asyncio.CancelledError:
            for _, future in batch:
                future.cancel()
            raise
        except Exception as exc:
            log.warning(
                "bus batch handler failed; its unfinished deliveries go one at a time",
                channel=self._channel,
                size=len(batch),
                error=repr(exc),
            )
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
        else:
            for _, future in batch:
                if not future.done():
                    future.set_result(None)
        finally:
            self.duration_s += time.perf_counter() - started

    async def cancel(self) -> None:
        """Cancel the batches in progress (their deliveries stay pending)."""
        tasks = list(self._running)
        if self._starter is not None:
            tasks.append(self._starter)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for _, future in self._queued:
            future.cancel()
        self._queued = []


def _settler(future: asyncio.Future[None]) -> Callable[[], None]:
    def settle() -> None:
        if not future.done():
            future.set_result(None)

    return settle


class Acks:
    """Acknowledges entries of one stream for one group, many ids per round trip."""

    def __init__(self, store: StreamStore, stream: str, group: str) -> None:
        self._store = store
        self._stream = stream
        self._group = group
        self._queued: list[tuple[str, asyncio.Future[None]]] = []
        self._sender: asyncio.Task[None] | None = None

    async def ack(self, entry_id: str) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        future.add_done_callback(_observe)
        self._queued.append((entry_id, future))
        if self._sender is None or self._sender.done():
            self._sender = asyncio.create_task(self._send(), name=f"bus:acks:{self._stream}")
        await asyncio.shield(future)

    async def _send(self) -> None:
        await asyncio.sleep(0)
        while self._queued:
            queued, self._queued = self._queued, []
            try:
                await self._store.ack(self._stream, self._group, [i for i, _ in queued])
            except Exception as exc:
                for _, future in queued:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for _, future in queued:
                if not future.done():
                    future.set_result(None)
