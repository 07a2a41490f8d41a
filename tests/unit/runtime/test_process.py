"""ProcessContext: one bus and one engine per process, SQLite migrated, checks, closing order."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from runtime_demo_component import schema_revision
from runtime_support import MakeSettings, get_json

from backbeat.db.engine import create_engine
from backbeat.db.migrate import head_revision, migrate_to
from backbeat.errors import BackendUnavailableError
from backbeat.observability.status import StatusServer
from backbeat.runtime import ProcessContext, SchemaNotCurrentError


async def test_the_bus_is_one_object_for_the_whole_process(make_settings: MakeSettings) -> None:
    async with StatusServer(port=0) as status:
        process = ProcessContext(make_settings(), status)
        first, second = await asyncio.gather(process.bus(), process.bus())
        assert first is second
        assert first is await process.bus()
        assert not first.is_durable
        _, body = await get_json(f"{status.url}/ready")
        assert body["checks"] == {"bus": True}
        await process.close()


async def test_a_redis_bus_is_pinged_and_checked(
    make_settings: MakeSettings, redis_url: str, redis_key_prefix: str
) -> None:
    settings = make_settings(REDIS_URL=redis_url, REDIS_KEY_PREFIX=redis_key_prefix)
    async with StatusServer(port=0) as status:
        process = ProcessContext(settings, status)
        bus = await process.bus()
        assert bus.is_durable
        status_code, body = await get_json(f"{status.url}/ready")
        assert (status_code, body["checks"]) == (200, {"bus": True})
        await process.close()


async def test_an_unreachable_redis_fails_at_first_use(make_settings: MakeSettings) -> None:
    settings = make_settings(REDIS_URL="redis://:hunter22@127.0.0.1:1/0")
    async with StatusServer(port=0) as status:
        process = ProcessContext(settings, status)
        with pytest.raises(BackendUnavailableError) as caught:
            await process.bus()
        assert caught.value.backend == "redis"
        assert "hunter22" not in str(caught.value)
        await process.close()


async def test_the_embedded_sqlite_database_is_created_and_migrated(
    make_settings: MakeSettings, tmp_path: Path
) -> None:
    settings = make_settings(DATA_DIR=str(tmp_path / "fresh" / "dir"))
    async with StatusServer(port=0) as status:
        process = ProcessContext(settings, status)
        engine, again = await asyncio.gather(process.database(), process.database())
        assert engine is again
        assert (tmp_path / "fresh" / "dir" / "backbeat.db").exists()
        assert await schema_revision(engine) == head_revision()
        status_code, body = await get_json(f"{status.url}/ready")
        assert (status_code, body["checks"]) == (200, {"database": True})
        await process.close()


async def test_a_server_database_must_already_be_at_head(
    make_settings: MakeSettings, db_backend: str, fresh_database_url: str
) -> None:
    settings = make_settings(DATABASE_URL=fresh_database_url)
    async with StatusServer(port=0) as status:
        process = ProcessContext(settings, status)
        if db_backend == "sqlite":  # any SQLite file is migrated on first use
            assert await schema_revision(await process.database()) == head_revision()
        else:
            with pytest.raises(SchemaNotCurrentError) as caught:
                await process.database()
            assert caught.value.current is None
            assert "backbeat migrate" in str(caught.value)
            engine = create_engine(fresh_database_url)
            await migrate_to(engine, "head")
            await engine.dispose()
            assert await schema_revision(await process.database()) == head_revision()
        status_code, body = await get_json(f"{status.url}/ready")
        assert (status_code, body["checks"]) == (200, {"database": True})
        await process.close()


async def test_an_unreachable_database_is_one_clear_error(make_settings: MakeSettings) -> None:
    settings = make_settings(DATABASE_URL="postgresql://bb:s3cr3tpw@127.0.0.1:1/backbeat")
    async with StatusServer(port=0) as status:
        process = ProcessContext(settings, status)
        with pytest.raises(BackendUnavailableError) as caught:
            await process.database()
        assert caught.value.backend == "database"
        assert "s3cr3tpw" not in str(caught.value)
        assert "127.0.0.1:1" in str(caught.value)
        await process.close()


async def test_resources_close_in_reverse_order_of_creation(make_settings: MakeSettings) -> None:
    closed: list[str] = []

    def maker(name: str) -> tuple[Callable[[], Awaitable[str]], Callable[[str], Awaitable[None]]]:
        async def create() -> str:
            return name

        async def close(resource: str) -> None:
            closed.append(resource)

        return create, close

    async with StatusServer(port=0) as status:
        process = ProcessContext(make_settings(), status)
        for name in ("first", "second", "third"):
            create, close = maker(name)
            assert await process.shared(name, create, close) == name
        await process.close()
    assert closed == ["third", "second", "first"]
    with pytest.raises(RuntimeError, match="closed"):
        await process.bus()


async def test_a_failed_create_is_retried_by_the_next_caller(make_settings: MakeSettings) -> None:
    attempts: list[int] = []

    async def create() -> int:
        attempts.append(1)
        if len(attempts) == 1:
            raise ConnectionRefusedError("not yet")
        return len(attempts)

    async with StatusServer(port=0) as status:
        process = ProcessContext(make_settings(), status)
        with pytest.raises(ConnectionRefusedError):
            await process.shared("thing", create)
        assert await process.shared("thing", create) == 2
        await process.close()


async def test_a_supervised_task_that_raises_is_the_process_failure(
    make_settings: MakeSettings,
) -> None:
    async def boom() -> None:
        raise ValueError("bad state")

    async with StatusServer(port=0) as status:
        process = ProcessContext(make_settings(), status)
        process.create_task(boom(), name="demo.loop")
        failure = await asyncio.wait_for(process.failure, 10)
        assert isinstance(failure, ValueError)
        process.fail(RuntimeError("later"))  # the first failure wins
        assert process.failure.result() is failure
        sleeper = process.create_task(asyncio.sleep(3600), name="demo.sleeper")
        await process.close()
        assert sleeper.cancelled()
