"""Migration 0005 seeds the search buckets' default policies and takes them back."""

from __future__ import annotations

from sqlalchemy import text

from backbeat.cache.ratelimit import SEARCH_BUCKET, SEARCH_GUILD_BUCKET
from backbeat.db.engine import create_engine
from backbeat.db.migrate import head_revision, migrate_to
from backbeat.db.repositories import RateLimitRepository
from backbeat.domain.records import RateLimitPolicy


async def test_search_defaults_are_seeded_once_and_removed_on_downgrade(
    fresh_database_url: str,
) -> None:
    engine = create_engine(fresh_database_url)
    try:
        await migrate_to(engine, "0005")
        repo = RateLimitRepository(engine)
        user = await repo.effective(bucket=SEARCH_BUCKET, guild_id=42)
        guild = await repo.effective(bucket=SEARCH_GUILD_BUCKET, guild_id=42)
        assert user == RateLimitPolicy(bucket=SEARCH_BUCKET, limit=30, window_seconds=60)
        assert guild == RateLimitPolicy(bucket=SEARCH_GUILD_BUCKET, limit=120, window_seconds=60)
        assert (await repo.all())[0].bucket == SEARCH_BUCKET
        # An operator's change survives a downgrade; the untouched default goes.
        await repo.put(policy=RateLimitPolicy(bucket=SEARCH_BUCKET, limit=5, window_seconds=60))
        await migrate_to(engine, "0004")
        assert await repo.effective(bucket=SEARCH_GUILD_BUCKET, guild_id=42) is None
        kept = await repo.effective(bucket=SEARCH_BUCKET, guild_id=42)
        assert kept is not None
        assert kept.limit == 5
        # Upgrading again adds only what is missing.
        await migrate_to(engine, "0005")
        assert (await repo.effective(bucket=SEARCH_BUCKET, guild_id=42)) == kept
        async with engine.connect() as connection:
            rows = await connection.execute(text("SELECT count(*) FROM rate_limits"))
            assert rows.scalar_one() == 2
        await migrate_to(engine, head_revision())
    finally:
        await engine.dispose()
