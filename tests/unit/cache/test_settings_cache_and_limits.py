"""The settings cache (read through, invalidated by writers) and the rate limiter, on SQL."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from backbeat.bus.factory import memory_bus
from backbeat.cache import (
    PLAY_BUCKET,
    CacheKeys,
    MemoryCacheStore,
    RateLimiter,
    SettingsCache,
)
from backbeat.cache.settings import dump_settings, load_settings
from backbeat.db.engine import create_engine
from backbeat.db.migrate import migrate_to
from backbeat.db.repositories import ConfigurationRepository, RateLimitRepository
from backbeat.domain.guild_settings import (
    AutoplayMode,
    BlacklistScope,
    GuildSettings,
    PremiumTier,
)
from backbeat.domain.messages import Channel
from backbeat.domain.messages.commands import SettingsChanged
from backbeat.domain.records import RateLimitPolicy

GUILD = 4242


@pytest.fixture
async def sql(fresh_database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(fresh_database_url)
    await migrate_to(engine, "head")
    yield engine
    await engine.dispose()


def test_settings_survive_the_cache_encoding() -> None:
    settings = GuildSettings(
        guild_id=1,
        premium_tier=PremiumTier.PRO,
        autoplay_mode=AutoplayMode.GENRE,
        blacklist=("a", "b"),
        blacklist_scope=BlacklistScope.ALL,
        dj_role_id=9,
    )
    assert load_settings(dump_settings(settings)) == settings


def test_an_entry_cached_before_the_blacklist_scope_existed_reads_as_the_default() -> None:
    old = dump_settings(GuildSettings(guild_id=1, blacklist=("keyword:a",)))
    data = json.loads(old)
    del data["blacklist_scope"]
    loaded = load_settings(json.dumps(data).encode())
    assert loaded.blacklist_scope is BlacklistScope.AUTOPLAY
    assert loaded.blacklist == ("keyword:a",)


async def test_reads_are_cached_and_writers_invalidate_then_announce(sql: AsyncEngine) -> None:
    store = MemoryCacheStore()
    repository = ConfigurationRepository(sql)
    cache = SettingsCache(store, repository, keys=CacheKeys())
    bus = memory_bus()
    try:
        assert (await cache.get(GUILD)).default_volume == 100
        # A write behind the cache's back is not seen until the entry goes: it is cached.
        await repository.update(guild_id=GUILD, default_volume=50)
        assert (await cache.get(GUILD)).default_volume == 100
        async with bus.tap(Channel.COMMANDS) as tap:
            updated = await cache.update(bus, guild_id=GUILD, actor_id=7, default_volume=80)
            assert updated.default_volume == 80
            assert (await cache.get(GUILD)).default_volume == 80
            announced = await anext(aiter(tap))
        assert isinstance(announced, SettingsChanged)
        assert announced.payload.keys == ["default_volume"]
        assert announced.context.user_id == 7
    finally:
        await bus.close()


async def test_rate_limits_follow_the_policy_per_user(sql: AsyncEngine) -> None:
    policies = RateLimitRepository(sql)
    limiter = RateLimiter(MemoryCacheStore(), policies, policy_ttl_s=0)
    assert (await limiter.hit(PLAY_BUCKET, guild_id=GUILD, user_id=1)).allowed  # no policy
    await policies.put(policy=RateLimitPolicy(bucket=PLAY_BUCKET, limit=2, window_seconds=30))
    results = [await limiter.hit(PLAY_BUCKET, guild_id=GUILD, user_id=1) for _ in range(3)]
    assert [r.allowed for r in results] == [True, True, False]
    assert 0 < results[-1].retry_after_s <= 30
    assert (await limiter.hit(PLAY_BUCKET, guild_id=GUILD, user_id=2)).allowed
    # A guild override wins over the bucket's default.
    await policies.put(
        policy=RateLimitPolicy(bucket=PLAY_BUCKET, limit=1, window_seconds=30, guild_id=GUILD + 1)
    )
    other = [await limiter.hit(PLAY_BUCKET, guild_id=GUILD + 1, user_id=1) for _ in range(2)]
    assert [r.allowed for r in other] == [True, False]
