"""An audio worker: a member of the audio lease pool with its processor, events and timers.

It consumes ``discord-bot:commands`` (the processor, in batches per partition) and
``discord-bot:to-audio`` (voice events, listener counts) for the partitions it leases,
drains the players' events, and
publishes ``ui:now`` and ``to-discord``. When it gains partitions it restores their players from SQL
(:mod:`backbeat.audio.restore`, taking over another worker's players by REST).

Partitions *released* (a hand-over: :meth:`AudioWorker.stop`, or a rebalance towards a new
worker) leave their players playing with their positions recorded, for the new owner to take
over; partitions *lost* (the lease expired) have their players removed from the node. A
command that finds the database (or Redis) unreachable waits and is tried again with backoff
while the lease is held, so an outage never drops it.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import random
import socket
import time
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from backbeat.audio.context import Audio
from backbeat.audio.events import PlayerEvents
from backbeat.audio.guilds import GuildState
from backbeat.audio.ports import Players
from backbeat.audio.positions import PositionRecorder
from backbeat.audio.processor import CommandProcessor
from backbeat.audio.restore import Restorer
from backbeat.audio.takeover import SessionTakeover
from backbeat.audio.timers import Timers
from backbeat.audio.voice import VoiceEvents
from backbeat.bus.interface import Delivery, Handler
from backbeat.bus.publisher import BatchingPublisher
from backbeat.bus.streams import StreamBus
from backbeat.bus.worker import LeasedWorker
from backbeat.cache.search import SearchCache
from backbeat.cache.search_throttle import SearchThrottle
from backbeat.config import AudioSettings, LavalinkNode
from backbeat.domain.messages import Channel
from backbeat.errors import BackendUnavailableError
from backbeat.net.url_guard import Resolver
from backbeat.observability.logging import get_logger
from backbeat.observability.metrics import audio_players, audio_players_playing, queue_size

_log = get_logger(__name__)


#: How often the gauges are refreshed.
GAUGE_INTERVAL_S = 5.0
#: Guilds the players gauges count between two yields to the event loop.
GAUGE_SLICE = 500
#: Guilds restored in one batch from which the survivors are frozen (see settle_memory).
FREEZE_AFTER = 1_000
#: Backoff of a command waiting for an unreachable database: first and longest delay.
RETRY_FIRST_S = 0.1
RETRY_MAX_S = 5.0
#: Failures a command waits out (the ledger makes a retry after a commit a replay).
_WAIT_OUT = (BackendUnavailableError, OperationalError, InterfaceError, ConnectionError)


def default_worker_id() -> str:
    return f"audio-{socket.gethostname()[:40]}-{os.getpid()}"


def settle_memory() -> None:
    """Collect the garbage, then move every object alive (after a large restore: the guilds'
    long-lived state) to the collector's permanent generation, so later full collections
    walk only what came after (with ten thousand guilds a full collection otherwise blocks
    the event loop for a few hundred milliseconds now and then). Process-wide: the objects
    frozen are never collected by the cyclic collector (reference counting still frees
    them), which is why the audio worker, the process's owner of that state, decides it."""
    started = time.perf_counter()
    gc.collect()
    gc.freeze()
    _log.info(
        "restore_memory_settled",
        frozen=gc.get_freeze_count(),
        took_ms=round((time.perf_counter() - started) * 1000, 1),
    )


def restore_batch_done(guilds: int) -> None:
    """The restorer's hook: a batch of ``guilds`` restores is done; after a large one
    (:data:`FREEZE_AFTER` or more), :func:`settle_memory`."""
    if guilds >= FREEZE_AFTER:
        settle_memory()


class AudioWorker:
    """Everything one audio worker runs; ``players`` is built by the caller (the seam)."""

    def __init__(
        self,
        *,
        bus: StreamBus,
        engine: AsyncEngine,
        players: Players,
        settings: AudioSettings,
        bot_user_id: int,
        worker_id: str | None = None,
        lease_ttl_ms: int | None = None,
        search_cache: SearchCache | None = None,
        search_throttle: SearchThrottle | None = None,
        resolver: Resolver | None = None,
        nodes: Sequence[LavalinkNode] = (),
        resume_timeout_s: float = 60.0,
    ) -> None:
        self.worker_id = worker_id or settings.audio_worker_id or default_worker_id()
        #: Snapshots and replies of many guilds go out in pipelines (one round trip each).
        self.publisher = BatchingPublisher(bus)
        self.audio = Audio(
            bus=self.publisher,
            engine=engine,
            players=players,
            settings=settings,
            bot_user_id=bot_user_id,
            search_cache=search_cache,
            search_throttle=search_throttle,
            resolver=resolver,
        )
        self.processor = CommandProcessor(self.audio)
        self.voice = VoiceEvents(self.audio)
        self.events = PlayerEvents(self.audio)
        self.timers = Timers(self.audio)
        self.positions = PositionRecorder(self.audio)
        self.events.on_position = self.positions.seen
        self._stopping = False
        self.lease_worker = LeasedWorker(
            bus,
            worker_id=self.worker_id,
            handlers={
                Channel.COMMANDS: self._patient(self.processor.handle),
                Channel.TO_AUDIO: self._patient(self.voice.handle),
            },
            batching={Channel.COMMANDS: self.processor.batching()},
            on_change=self._partitions_changed,
            ttl_ms=lease_ttl_ms,
        )
        self._partitions = bus.config.partitions
        self.takeover = SessionTakeover(nodes) if nodes else None
        self.restorer = Restorer(
            self.audio,
            self._partitions,
            takeover=self.takeover,
            own_sessions=self.events.sessions,
            resume_timeout_s=resume_timeout_s,
            on_batch_done=restore_batch_done,
        )
        self._owned: frozenset[int] = frozenset()
        self._events_task: asyncio.Task[None] | None = None
        #: Guilds whose players were left playing on release: node → (our session, guilds).
        self.handed: dict[str, tuple[str, set[int]]] = {}

    @property
    def owned(self) -> frozenset[int]:
        return self.lease_worker.owned

    def _patient(self, handler: Handler) -> Handler:
        """``handler`` retried with jittered backoff while the database (or Redis) is
        unreachable and the lease is held: the message waits instead of being dropped."""

        async def handle(delivery: Delivery) -> None:
            delay = RETRY_FIRST_S
            while True:
                try:
                    await handler(delivery)
                    return
                except _WAIT_OUT as error:
                    if self._stopping or not delivery.still_current():
                        raise  # left pending: the partition's next owner takes it
                    _log.warning(
                        "command_waits_for_backend",
                        guild_id=delivery.message.guild_id,
                        message_id=delivery.message.id,
                        error=type(error).__name__,
                        retry_in_s=round(delay, 2),
                    )
                    await asyncio.sleep(delay * random.uniform(0.5, 1.0))
                    delay = min(delay * 2, RETRY_MAX_S)

        return handle

    async def _partitions_changed(self, owned: frozenset[int]) -> None:
        gained = owned - self._owned
        self._owned = owned
        releasing = set(self.lease_worker.leases.held) - set(owned)
        for state in self.audio.guilds:
            partition = state.guild_id % self._partitions
            if partition in owned:
                continue
            async with state.lock:
                self.audio.guilds.drop(state.guild_id)
                self.positions.forget(state.guild_id)
                if partition in releasing:  # handed over: the new owner takes the player
                    await self._hand_over(state)
                else:
                    with contextlib.suppress(Exception):
                        await self.audio.players.destroy(state.guild_id)
        _log.info("partitions_owned", worker=self.worker_id, partitions=sorted(owned))
        if gained:
            try:
                await self.restorer.gained(gained)
            except Exception:  # the players stay as they are; SQL keeps the queues
                _log.exception("restore_failed", worker=self.worker_id)

    async def _hand_over(self, state: GuildState) -> None:
        """Record the playing position of a released guild and leave its player playing."""
        audio = self.audio
        snapshot = audio.players.snapshot(state.guild_id)
        if snapshot is None:
            return
        if state.playing is not None:
            try:
                await audio.queue.set_session(
                    guild_id=state.guild_id, position_ms=audio.position_ms(state, None)
                )
            except Exception:
                _log.warning("handover_position_failed", guild_id=state.guild_id, exc_info=True)
        own = self.events.sessions.get(snapshot.node or "")
        if snapshot.node is not None and own is not None:
            self.handed.setdefault(snapshot.node, (own, set()))[1].add(state.guild_id)
        _log.info("player_handed_over", guild_id=state.guild_id, playing=state.playing is not None)

    async def run(self) -> None:
        """Run until :meth:`stop`; cancelling acts like a crash (nothing in hand is acked)."""
        self._events_task = asyncio.create_task(self.events.run())
        gauges = asyncio.create_task(self._gauges())
        try:
            await self.lease_worker.run()
        finally:
            for task in (self._events_task, gauges):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            await self.events.close()
            await self.voice.close()
            await self.restorer.close()
            await self.positions.close()
            await self.audio.autoplay.close()
            await self.publisher.close()
            for state in self.audio.guilds:
                state.cancel_timers()

    async def stop(self, *, handover_wait_s: float | None = None) -> None:
        """Graceful hand-over: stop reading (the commands in hand finish), record every
        player's position, release every lease at once, then wait (at most
        ``handover_wait_s``, default half the lease TTL) until the new owners have taken
        the players out of this worker's sessions. The players are left playing."""
        started = time.monotonic()
        self._stopping = True
        await self.lease_worker.stop()
        if handover_wait_s is None:
            handover_wait_s = self.lease_worker.leases.ttl_ms / 2000
        await self._wait_taken(started + handover_wait_s)
        if self.takeover is not None:
            await self.takeover.close()

    async def _wait_taken(self, deadline: float) -> None:
        if self.takeover is None:
            return
        while self.handed and time.monotonic() < deadline:
            for node, (session_id, guilds) in list(self.handed.items()):
                try:
                    present = await self.takeover.guilds(node, session_id)
                except Exception:
                    present = guilds
                if present is None:
                    del self.handed[node]
                    continue
                guilds.intersection_update(present)
                if not guilds:
                    del self.handed[node]
            await asyncio.sleep(0.05)
        if self.handed:
            _log.warning(
                "players_not_taken_over",
                worker=self.worker_id,
                guilds=sorted(g for _, gs in self.handed.values() for g in gs),
            )

    async def _gauges(self) -> None:
        """Keep the players, playing and queue-size gauges current (every few seconds)."""
        while True:
            try:
                await self.refresh_gauges()
            except Exception:
                _log.warning("gauges_failed", exc_info=True)
            await asyncio.sleep(GAUGE_INTERVAL_S)

    async def refresh_gauges(self) -> None:
        """Set ``audio_players``, ``audio_players_playing`` and ``queue_size``: the players
        counted :data:`GAUGE_SLICE` guilds at a time (the loop runs between slices: ten
        thousand in one go blocked it for tens of milliseconds), the queues summed in SQL
        over the owned partitions (an ``IN`` of partitions, not of every guild id)."""
        counts = await self.stats_players()
        audio_players.set(counts["players"])
        audio_players_playing.set(counts["playing"])
        owned = self.owned
        queue_size.set(
            await self.audio.queue.count(owned=owned, partitions=self._partitions) if owned else 0
        )

    async def stats_players(self) -> dict[str, int]:
        """Players this worker holds on the nodes, and those of them playing."""
        players = playing = 0
        for index, state in enumerate(self.audio.guilds):
            if index and not index % GAUGE_SLICE:
                await asyncio.sleep(0)
            if self.audio.players.holds(state.guild_id):
                players += 1
                if state.playing is not None:
                    playing += 1
        return {"players": players, "playing": playing}

    async def stats(self) -> Mapping[str, Any]:
        """The ``/stats`` section: players, playing, nodes, owned partitions, queue depths
        (over every session of the owned partitions in SQL)."""
        sessions = []
        for partition in sorted(self.owned):
            sessions += await self.audio.queue.sessions(
                partition=partition, partitions=self._partitions
            )
        depths = [session.upcoming for session in sessions]
        return {
            "worker": self.worker_id,
            **(await self.stats_players()),
            "nodes": self.audio.players.stats(),
            "partitions": sorted(self.owned),
            "guilds": len(self.audio.guilds),
            "queues": {
                "sessions": len(sessions),
                "waiting": sum(1 for depth in depths if depth),
                "queued": sum(depths),
                "longest": max(depths, default=0),
            },
        }
