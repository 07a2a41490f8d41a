"""The backend fixtures reach real servers, and each run gets its own place on them."""

from __future__ import annotations

import redis.asyncio as aioredis
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

_DIALECTS = {"sqlite": "sqlite", "postgresql": "postgresql", "mariadb": "mysql"}
_CURRENT_DATABASE = {
    "postgresql": "SELECT current_database()",
    "mariadb": "SELECT DATABASE()",
}


async def test_database_fixture_reaches_its_server(db_backend: str, database_url: str) -> None:
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as conn:
            assert engine.dialect.name == _DIALECTS[db_backend]
            await conn.execute(
                text("CREATE TABLE probe (id INTEGER PRIMARY KEY, note VARCHAR(20))")
            )
            await conn.execute(text("INSERT INTO probe (id, note) VALUES (1, 'reached')"))
            note = (await conn.execute(text("SELECT note FROM probe WHERE id = 1"))).scalar_one()
            assert note == "reached"
            if db_backend in _CURRENT_DATABASE:
                name = (await conn.execute(text(_CURRENT_DATABASE[db_backend]))).scalar_one()
                assert name == make_url(database_url).database
                assert name.startswith("backbeat_test_")
            await conn.execute(text("DROP TABLE probe"))
    finally:
        await engine.dispose()


async def test_fresh_database_is_empty_and_separate(
    db_backend: str, database_url: str, fresh_database_url: str
) -> None:
    assert fresh_database_url != database_url
    engine = create_async_engine(fresh_database_url)
    try:
        async with engine.connect() as conn:
            tables = await conn.run_sync(lambda sync: sync.dialect.get_table_names(sync))
            assert tables == []
    finally:
        await engine.dispose()


async def test_redis_fixture_reaches_its_server(redis_url: str, redis_key_prefix: str) -> None:
    client = aioredis.Redis.from_url(redis_url)
    try:
        assert await client.ping()
        key = f"{redis_key_prefix}probe"
        await client.set(key, "reached", ex=60)
        assert await client.get(key) == b"reached"
        assert redis_key_prefix.startswith("bbtest:")
    finally:
        await client.aclose()
