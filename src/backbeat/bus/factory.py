"""Build the bus a deployment's settings ask for: Redis when a URL is set, else in-process."""

from __future__ import annotations

from backbeat.bus.interface import BusConfig
from backbeat.bus.keys import AUDIO_POOL, Keys
from backbeat.bus.leases import MemoryLeaseStore, RedisLeaseStore
from backbeat.bus.memory_store import MemoryStreamStore
from backbeat.bus.redis_store import RedisStreamStore
from backbeat.bus.streams import StreamBus
from backbeat.config import Settings


def bus_config(settings: Settings) -> BusConfig:
    """Bus tuning from settings; to-discord and ui:now have one partition per shard."""
    bus = settings.bus
    return BusConfig(
        partitions=bus.bus_partitions,
        shard_count=settings.discord.shard_count or 1,
        max_deliveries=bus.bus_max_deliveries,
        claim_idle_ms=bus.bus_claim_idle_ms,
        maxlen=bus.bus_maxlen,
        lease_ttl_ms=bus.bus_lease_ttl_ms,
    )


def memory_bus(config: BusConfig | None = None) -> StreamBus:
    """The in-process bus (embedded default)."""
    return StreamBus(
        MemoryStreamStore(), {AUDIO_POOL: MemoryLeaseStore()}, config=config or BusConfig()
    )


def redis_bus(url: str, *, prefix: str = "", config: BusConfig | None = None) -> StreamBus:
    """The Redis Streams bus; every key starts with ``prefix``.

    Its client has a socket timeout (``config.socket_timeout_s``, longer than ``block_ms``):
    a Redis that stops answering (SIGSTOP, a connection dropped without a reset) fails the
    call in hand, and readers, taps and lease renewals retry on a new connection rather than
    wait forever."""
    chosen = config or BusConfig()
    store = RedisStreamStore.from_url(url, socket_timeout=chosen.socket_timeout_s)
    keys = Keys(prefix)
    return StreamBus(
        store,
        {AUDIO_POOL: RedisLeaseStore(store.client, keys, AUDIO_POOL)},
        config=chosen,
        keys=keys,
    )


def create_bus(settings: Settings) -> StreamBus:
    """Redis when ``BACKBEAT_REDIS_URL`` is set, otherwise in-process."""
    config = bus_config(settings)
    if settings.bus.redis_url is None:
        return memory_bus(config)
    return redis_bus(settings.bus.redis_url, prefix=settings.bus.redis_key_prefix, config=config)
