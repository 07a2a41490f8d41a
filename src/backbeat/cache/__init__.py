"""Caches shared by every service: keys, stores, guild settings, rate limits.

Every cache key is named in :mod:`backbeat.cache.keys`. Stores (:mod:`backbeat.cache.store`)
are Redis when the deployment has one, else in process. :class:`SettingsCache` reads guild
settings through the cache and invalidates on every write; :class:`RateLimiter` counts uses
of the buckets in :mod:`backbeat.cache.ratelimit` against policies kept in SQL.
"""

from backbeat.cache.factory import cache_keys, create_cache_store
from backbeat.cache.keys import GUILD_SETTINGS_TTL_S, NOW_PLAYING_TTL_S, SEARCH_TTL_S, CacheKeys
from backbeat.cache.ratelimit import (
    BUCKETS,
    CONTROL_BUCKET,
    PLAY_BUCKET,
    VIEW_BUCKET,
    RateDecision,
    RateLimiter,
)
from backbeat.cache.settings import SettingsCache
from backbeat.cache.store import CacheStore, MemoryCacheStore, RedisCacheStore, WindowCount

__all__ = [
    "BUCKETS",
    "CONTROL_BUCKET",
    "GUILD_SETTINGS_TTL_S",
    "NOW_PLAYING_TTL_S",
    "PLAY_BUCKET",
    "SEARCH_TTL_S",
    "VIEW_BUCKET",
    "CacheKeys",
    "CacheStore",
    "MemoryCacheStore",
    "RateDecision",
    "RateLimiter",
    "RedisCacheStore",
    "SettingsCache",
    "WindowCount",
    "cache_keys",
    "create_cache_store",
]
