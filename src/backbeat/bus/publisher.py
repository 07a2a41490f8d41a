"""A publisher that sends what is published while a round trip is under way in the next one.

A worker finishing many guilds at once (a batch of commands) publishes a snapshot and a reply
per command from many tasks; one ``XADD`` round trip each would cost more than the commands.
:class:`BatchingPublisher` queues each publish and sends the queue as one pipeline
(:meth:`Bus.publish_many <backbeat.bus.interface.Bus.publish_many>`): the first publish
starts a send at the next turn of the event loop, and whatever is published while a send is
in flight goes out in the one after. Each caller still waits for its own entry id (or the
error), and one caller's publishes keep their order.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Protocol

from backbeat.domain.messages import Channel, Envelope, channel_accepts


class PublishesMany(Protocol):
    """What the batching publisher sends through (a :class:`~backbeat.bus.interface.Bus`)."""

    async def publish_many(self, messages: Sequence[tuple[Channel, Envelope]]) -> list[str]: ...


class BatchingPublisher:
    """``publish`` like a bus, sent in pipelines of whatever is queued (see the module)."""

    def __init__(self, bus: PublishesMany) -> None:
        self._bus = bus
        self._queued: list[tuple[Channel, Envelope, asyncio.Future[str]]] = []
        self._sender: asyncio.Task[None] | None = None
        #: Round trips made and messages sent (for the benchmark's round trips per command).
        self.round_trips = 0
        self.sent = 0

    async def publish(self, channel: Channel, message: Envelope) -> str:
        if not channel_accepts(channel, message):
            raise ValueError(f"{message.type!r} messages do not travel on {channel.value}")
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._queued.append((channel, message, future))
        if self._sender is None or self._sender.done():
            self._sender = asyncio.create_task(self._send(), name="bus:publisher")
        return await asyncio.shield(future)

    async def _send(self) -> None:
        await asyncio.sleep(0)  # let the other tasks of this turn queue theirs
        while self._queued:
            queued, self._queued = self._queued, []
            try:
                ids = await self._bus.publish_many([(c, m) for c, m, _ in queued])
            except Exception as error:
                for _, _, future in queued:
                    if not future.done():
                        future.set_exception(error)
                continue
            finally:
                self.round_trips += 1
                self.sent += len(queued)
            for (_, _, future), entry_id in zip(queued, ids, strict=True):
                if not future.done():
                    future.set_result(entry_id)

    async def close(self) -> None:
        """Wait for the send in flight (nothing queued is dropped)."""
        if self._sender is not None:
            await asyncio.gather(self._sender, return_exceptions=True)
