"""Migration 0008 types the flat blacklist entries as keywords and takes them back.

Rows are written and read with the columns 0008 knows (not the current model, which has
later columns such as 0009's ``blacklist_scope``)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from backbeat.db.engine import create_engine
from backbeat.db.migrate import head_revision, migrate_to
from backbeat.db.types import utc_now

_TABLE = sa.table(
    "server_configurations",
    *(
        sa.column(name)
        for name in (
            "guild_id",
            "premium_tier",
            "autoplay_enabled",
            "autoplay_mode",
            "default_volume",
            "twenty_four_seven",
            "vote_skip_ratio",
            "created_at",
            "updated_at",
        )
    ),
    sa.column("blacklist", sa.JSON),
)


def _row(guild_id: int, blacklist: list[str]) -> dict[str, Any]:
    now = utc_now()
    return {
        "guild_id": guild_id,
        "premium_tier": "free",
        "autoplay_enabled": False,
        "autoplay_mode": "similar",
        "default_volume": 100,
        "twenty_four_seven": False,
        "vote_skip_ratio": 0.5,
        "created_at": now,
        "updated_at": now,
        "blacklist": blacklist,
    }


async def _blacklist(engine: Any, guild_id: int) -> list[str]:
    async with engine.connect() as conn:
        query = sa.select(_TABLE.c.blacklist).where(_TABLE.c.guild_id == guild_id)
        value = (await conn.execute(query)).scalar_one()
    return list(value)


async def test_flat_entries_become_keywords_and_back(fresh_database_url: str) -> None:
    engine = create_engine(fresh_database_url)
    try:
        await migrate_to(engine, "0007")
        async with engine.begin() as conn:
            await conn.execute(
                sa.insert(_TABLE),
                [
                    _row(7, ["nightcore", "artist:Harbor Pilots", "  "]),
                    _row(8, ["keyword:rock", "rock"]),
                ],
            )
        await migrate_to(engine, "0008")
        assert await _blacklist(engine, 7) == ["keyword:nightcore", "artist:Harbor Pilots"]
        assert await _blacklist(engine, 8) == ["keyword:rock"]
        await migrate_to(engine, "0007")
        assert await _blacklist(engine, 7) == ["nightcore", "artist:Harbor Pilots"]
        await migrate_to(engine, head_revision())
    finally:
        await engine.dispose()
