"""The audio component: the composition root of the audio service in a Backbeat process.

``backbeat run audio`` builds it with :data:`COMPONENT_FACTORY`. It takes the process's bus
and database, starts the Lavalink players and one :class:`~backbeat.audio.worker.AudioWorker`
(a member of the audio lease pool), purges applied-message ids past their retention, and
adds the ``audio.nodes`` readiness check and the ``audio`` section of ``/stats``.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from typing import TYPE_CHECKING

from backbeat.audio.lavalink import LavalinkPlayers
from backbeat.audio.worker import AudioWorker
from backbeat.cache import CacheStore, RateLimiter, cache_keys, create_cache_store
from backbeat.cache.factory import CACHE_RESOURCE
from backbeat.cache.search import create_search_cache
from backbeat.cache.search_throttle import SearchThrottle
from backbeat.config import Settings, env_name
from backbeat.db.repositories.lavalink_sessions import SqlSessionStore
from backbeat.db.repositories.rate_limits import RateLimitRepository
from backbeat.db.types import utc_now
from backbeat.errors import ConfigurationError
from backbeat.observability.logging import get_logger

if TYPE_CHECKING:
    from backbeat.runtime.process import ProcessContext

_log = get_logger(__name__)

#: How often applied-message ids past their retention are purged.
PURGE_INTERVAL_S = 600.0


async def _close_cache(store: CacheStore) -> None:
    await store.close()


class AudioComponent:
    """The audio service: command processor, voice handshake, player events, timers."""

    name = "audio"

    def __init__(self, settings: Settings) -> None:
        bot_user_id = settings.discord.bot_user_id
        if bot_user_id is None:
            raise ConfigurationError(
                env_name("bot_user_id"), "the audio service needs the bot's user id"
            )
        self._settings = settings
        self._bot_user_id = bot_user_id
        self.worker: AudioWorker | None = None
        self._players: LavalinkPlayers | None = None
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self, process: ProcessContext) -> None:
        bus = await process.bus()
        engine = await process.database()
        holder: list[AudioWorker] = []

        async def voice_request(guild_id: int, channel_id: int | None) -> None:
            await holder[0].audio.voice_request(guild_id, channel_id)

        # session ids are kept only with a stable BACKBEAT_AUDIO_WORKER_ID (resumed on restart)
        players = LavalinkPlayers.from_settings(
            self._settings, voice_request, session_store=SqlSessionStore(engine)
        )
        self._players = players

        async def create_store() -> CacheStore:
            return create_cache_store(self._settings)

        # the gateway's store too: one search cache and one set of search counters
        store = await process.shared(CACHE_RESOURCE, create_store, _close_cache)
        limiter = RateLimiter(store, RateLimitRepository(engine), keys=cache_keys(self._settings))
        worker = AudioWorker(
            bus=bus,
            engine=engine,
            players=players,
            settings=self._settings.audio,
            bot_user_id=self._bot_user_id,
            search_cache=create_search_cache(self._settings, store),
            search_throttle=SearchThrottle(limiter),
            nodes=self._settings.lavalink.lavalink_nodes,
            resume_timeout_s=self._settings.lavalink.lavalink_resume_timeout_s,
        )
        holder.append(worker)
        self.worker = worker
        await players.start()
        self._tasks.append(process.create_task(worker.run(), name="audio.worker"))
        self._tasks.append(process.create_task(self._purge_loop(worker), name="audio.purge"))
        process.status.add_readiness_check("audio.nodes", players.ready)
        process.status.add_stats_section("audio", worker.stats)

    async def _purge_loop(self, worker: AudioWorker) -> None:
        retention = timedelta(seconds=self._settings.audio.applied_retention_s)
        while True:
            try:
                removed = await worker.audio.ledger.applied.purge(older_than=utc_now() - retention)
                if removed:
                    _log.info("applied_ids_purged", count=removed)
            except Exception:
                _log.warning("applied_purge_failed", exc_info=True)
            await asyncio.sleep(PURGE_INTERVAL_S)

    async def stop(self) -> None:
        """Graceful hand-over (SIGTERM): the worker stops reading, finishes the commands in
        hand, records the positions and releases its leases at once; the players are left
        playing on the nodes for the new owner (``close`` leaves them as they are)."""
        if self.worker is not None:
            with contextlib.suppress(Exception):
                await self.worker.stop()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.worker is not None:
            await self.worker.audio.searcher.close()
        if self._players is not None:
            await self._players.close()


COMPONENT_FACTORY = AudioComponent
