"""The cache store a deployment's settings ask for: Redis when a URL is set, else in process."""

from __future__ import annotations

from backbeat.cache.keys import CacheKeys
from backbeat.cache.store import CacheStore, MemoryCacheStore, RedisCacheStore
from backbeat.config import Settings

CACHE_RESOURCE = "cache"
"""The name of a process's one cache store among its shared resources (``process.shared``):
every component of the process (gateway, audio, panel) uses the same store."""


def create_cache_store(settings: Settings) -> CacheStore:
    """Redis (``BACKBEAT_REDIS_URL``) or the process's memory."""
    if settings.bus.redis_url is None:
        return MemoryCacheStore()
    return RedisCacheStore.from_url(settings.bus.redis_url)


def cache_keys(settings: Settings) -> CacheKeys:
    """Key names under the deployment's ``BACKBEAT_REDIS_KEY_PREFIX``."""
    return CacheKeys(settings.bus.redis_key_prefix)
