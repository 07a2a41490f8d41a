"""``backbeat run gateway``: the gateway as a component of a Backbeat process.

It takes the process's bus and database engine, a cache store shared by the process
(Redis when configured, else in memory), adds the ``gateway.shards`` readiness check and the
``gateway`` ``/stats`` section (shards with state and latency), and runs the bot as a
supervised task: a fatal Discord error (bad token, disallowed intents) stops the process.
"""

from __future__ import annotations

from backbeat.cache import CacheStore, cache_keys, create_cache_store
from backbeat.config import Settings
from backbeat.errors import ConfigurationError
from backbeat.gateway.app import Gateway
from backbeat.runtime import ProcessContext

NAME = "gateway"
CACHE_RESOURCE = "cache"


async def _close_cache(store: CacheStore) -> None:
    await store.close()


class GatewayComponent:
    """The gateway component (built by :data:`COMPONENT_FACTORY`)."""

    def __init__(self, settings: Settings) -> None:
        if settings.discord.discord_token is None:
            raise ConfigurationError("BACKBEAT_DISCORD_TOKEN", "the gateway needs the bot token")
        self._settings = settings
        self._gateway: Gateway | None = None

    @property
    def name(self) -> str:
        return NAME

    async def start(self, process: ProcessContext) -> None:
        bus = await process.bus()
        engine = await process.database()

        async def create() -> CacheStore:
            return create_cache_store(self._settings)

        cache = await process.shared(CACHE_RESOURCE, create, _close_cache)
        gateway = Gateway(
            self._settings, bus=bus, engine=engine, cache=cache, keys=cache_keys(self._settings)
        )
        self._gateway = gateway
        process.status.add_readiness_check(f"{NAME}.shards", gateway.ready)
        process.status.add_stats_section(NAME, gateway.stats)
        await gateway.start(spawn=lambda coro, name: process.create_task(coro, name=name))

    async def stop(self) -> None:
        if self._gateway is not None:
            await self._gateway.stop()
            self._gateway = None


COMPONENT_FACTORY = GatewayComponent
