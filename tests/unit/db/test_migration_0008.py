"""Migration 0008 types the flat blacklist entries as keywords and takes them back."""

from __future__ import annotations

from backbeat.db.engine import create_engine
from backbeat.db.migrate import head_revision, migrate_to
from backbeat.db.repositories.configuration import ConfigurationRepository


async def test_flat_entries_become_keywords_and_back(fresh_database_url: str) -> None:
    engine = create_engine(fresh_database_url)
    try:
        await migrate_to(engine, "0007")
        repo = ConfigurationRepository(engine)
        await repo.update(guild_id=7, blacklist=("nightcore", "artist:Harbor Pilots", "  "))
        await repo.update(guild_id=8, blacklist=("keyword:rock", "rock"))
        await migrate_to(engine, "0008")
        assert (await repo.get(guild_id=7)).blacklist == (
            "keyword:nightcore",
            "artist:Harbor Pilots",
        )
        assert (await repo.get(guild_id=8)).blacklist == ("keyword:rock",)
        await migrate_to(engine, "0007")
        assert (await repo.get(guild_id=7)).blacklist == ("nightcore", "artist:Harbor Pilots")
        await migrate_to(engine, head_revision())
    finally:
        await engine.dispose()
