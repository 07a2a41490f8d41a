"""An audio worker: a member of the audio lease pool with its processor, events and timers.

It consumes ``discord-bot:commands`` (the processor) and ``discord-bot:to-audio`` (voice
events, listener counts) for the partitions it leases, drains the players' events, and
publishes ``ui:now`` and ``to-discord``. When it gains partitions it restores their players from SQL
(:mod:`backbeat.audio.restore`); when it loses some it forgets their guilds and removes their
players from the node (the new owner builds its own from SQL).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from backbeat.audio.context import Audio
from backbeat.audio.events import PlayerEvents
from backbeat.audio.ports import Players
from backbeat.audio.processor import CommandProcessor
from backbeat.audio.restore import Restorer
from backbeat.audio.timers import Timers
from backbeat.audio.voice import VoiceEvents
from backbeat.bus.streams import StreamBus
from backbeat.bus.worker import LeasedWorker
from backbeat.config import AudioSettings
from backbeat.domain.messages import Channel
from backbeat.observability.logging import get_logger
from backbeat.observability.metrics import audio_players, audio_players_playing, queue_size

_log = get_logger(__name__)


#: How often the gauges are refreshed.
GAUGE_INTERVAL_S = 5.0


def default_worker_id() -> str:
    return f"audio-{socket.gethostname()[:40]}-{os.getpid()}"


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
    ) -> None:
        self.worker_id = worker_id or settings.audio_worker_id or default_worker_id()
        self.audio = Audio(
            bus=bus, engine=engine, players=players, settings=settings, bot_user_id=bot_user_id
        )
        self.processor = CommandProcessor(self.audio)
        self.voice = VoiceEvents(self.audio)
        self.events = PlayerEvents(self.audio)
        self.timers = Timers(self.audio)
        self.lease_worker = LeasedWorker(
            bus,
            worker_id=self.worker_id,
            handlers={
                Channel.COMMANDS: self.processor.handle,
                Channel.TO_AUDIO: self.voice.handle,
            },
            on_change=self._partitions_changed,
            ttl_ms=lease_ttl_ms,
        )
        self._partitions = bus.config.partitions
        self.restorer = Restorer(self.audio, self._partitions)
        self._owned: frozenset[int] = frozenset()
        self._events_task: asyncio.Task[None] | None = None

    @property
    def owned(self) -> frozenset[int]:
        return self.lease_worker.owned

    async def _partitions_changed(self, owned: frozenset[int]) -> None:
        gained = owned - self._owned
        self._owned = owned
        for state in self.audio.guilds:
            if state.guild_id % self._partitions not in owned:
                async with state.lock:
                    self.audio.guilds.drop(state.guild_id)
                    with contextlib.suppress(Exception):
                        await self.audio.players.destroy(state.guild_id)
        _log.info("partitions_owned", worker=self.worker_id, partitions=sorted(owned))
        if gained:
            try:
                await self.restorer.gained(gained)
            except Exception:  # the players stay as they are; SQL keeps the queues
                _log.exception("restore_failed", worker=self.worker_id)

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
            for state in self.audio.guilds:
                state.cancel_timers()

    async def stop(self) -> None:
        await self.lease_worker.stop()

    async def _gauges(self) -> None:
        """Keep the players, playing and queue-size gauges current (every few seconds)."""
        while True:
            try:
                counts = self.stats_players()
                audio_players.set(counts["players"])
                audio_players_playing.set(counts["playing"])
                guild_ids = [state.guild_id for state in self.audio.guilds]
                queue_size.set(
                    await self.audio.queue.count(guild_ids=guild_ids) if guild_ids else 0
                )
            except Exception:
                _log.warning("gauges_failed", exc_info=True)
            await asyncio.sleep(GAUGE_INTERVAL_S)

    def stats_players(self) -> dict[str, int]:
        players = playing = 0
        for state in self.audio.guilds:
            if self.audio.players.snapshot(state.guild_id) is not None:
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
            **self.stats_players(),
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
