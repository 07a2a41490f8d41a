"""Migration 0009 adds ``blacklist_scope``: existing guilds get ``autoplay`` (the default),
the repository reads and writes it, and the downgrade drops it keeping the rest."""

from __future__ import annotations

import sqlalchemy as sa
from test_migration_0008 import _TABLE, _blacklist, _row

from backbeat.db.engine import create_engine
from backbeat.db.migrate import head_revision, migrate_to
from backbeat.db.repositories.configuration import ConfigurationRepository
from backbeat.domain.guild_settings import BlacklistScope


async def test_existing_guilds_get_the_autoplay_scope(fresh_database_url: str) -> None:
    engine = create_engine(fresh_database_url)
    try:
        await migrate_to(engine, "0008")
        async with engine.begin() as conn:
            await conn.execute(sa.insert(_TABLE), [_row(9, ["keyword:rock"])])
        await migrate_to(engine, "0009")
        repo = ConfigurationRepository(engine)
        before = await repo.get(guild_id=9)
        assert before.blacklist == ("keyword:rock",)
        assert before.blacklist_scope is BlacklistScope.AUTOPLAY
        assert (await repo.get(guild_id=10)).blacklist_scope is BlacklistScope.AUTOPLAY
        changed = await repo.update(guild_id=9, blacklist_scope="all")
        assert changed.blacklist_scope is BlacklistScope.ALL
        assert (await repo.get(guild_id=9)).blacklist_scope is BlacklistScope.ALL
        new = await repo.update(guild_id=11, blacklist_scope=BlacklistScope.ALL)
        assert new.blacklist_scope is BlacklistScope.ALL
        await migrate_to(engine, "0008")
        assert await _blacklist(engine, 9) == ["keyword:rock"]
        await migrate_to(engine, head_revision())
        assert (await repo.get(guild_id=9)).blacklist_scope is BlacklistScope.AUTOPLAY
    finally:
        await engine.dispose()
