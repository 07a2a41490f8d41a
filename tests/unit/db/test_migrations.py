"""Migrations take an empty database to head and back, and agree with the models."""

from __future__ import annotations

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.util import CommandError
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from backbeat.cli import main
from backbeat.db.engine import create_engine
from backbeat.db.migrate import current_revision, head_revision, migrate_to
from backbeat.db.models import Base
from backbeat.testing.backends import run_sync


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "target_metadata": Base.metadata}
    )
    return list(compare_metadata(context, Base.metadata))


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def test_upgrade_matches_the_models_and_downgrade_empties(fresh_database_url: str) -> None:
    engine = create_engine(fresh_database_url)
    try:
        assert await current_revision(engine) is None
        result = await migrate_to(engine, "head")
        assert (result.before, result.after, result.direction) == (None, head_revision(), "upgrade")
        async with engine.connect() as connection:
            assert await connection.run_sync(_differences) == []
            assert set(Base.metadata.tables) <= await connection.run_sync(_tables)

        again = await migrate_to(engine, "head")
        assert again.direction == "none"

        down = await migrate_to(engine, "base")
        assert (down.after, down.direction) == (None, "downgrade")
        async with engine.connect() as connection:
            assert await connection.run_sync(_tables) <= {"alembic_version"}

        up = await migrate_to(engine, head_revision())
        assert up.after == head_revision()
    finally:
        await engine.dispose()


async def test_unknown_revision_is_refused(fresh_database_url: str) -> None:
    engine = create_engine(fresh_database_url)
    try:
        with pytest.raises(CommandError):
            await migrate_to(engine, "no-such-revision")
        assert await current_revision(engine) is None
    finally:
        await engine.dispose()


def test_cli_migrates_up_and_down(
    fresh_database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BACKBEAT_DATABASE_URL", fresh_database_url)
    assert main(["--env-file", "/nonexistent", "migrate"]) == 0
    assert f"base -> {head_revision()}" in capsys.readouterr().out

    assert main(["--env-file", "/nonexistent", "migrate", "--show"]) == 0
    assert "up to date" in capsys.readouterr().out

    assert main(["--env-file", "/nonexistent", "migrate", "--to", "base"]) == 0
    assert f"{head_revision()} -> base" in capsys.readouterr().out

    async def revision() -> str | None:
        engine = create_engine(fresh_database_url)
        try:
            return await current_revision(engine)
        finally:
            await engine.dispose()

    assert run_sync(revision()) is None
    assert main(["--env-file", "/nonexistent", "migrate", "--to", "nope"]) == 2


@pytest.mark.parametrize(
    ("url", "driver_error"),
    [
        ("postgresql://nobody:wrong-secret@127.0.0.1:5432/nodb", "nobody"),
        ("mysql://root:wrong-secret@127.0.0.1:3306/nodb", "Access denied"),
        ("postgresql://postgres:wrong-secret@127.0.0.1:1/nodb", "ConnectionRefusedError"),
    ],
)
def test_cli_reports_unreachable_databases_in_one_line(
    url: str,
    driver_error: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("BACKBEAT_DATABASE_URL", url)
    assert main(["--env-file", "/nonexistent", "migrate"]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert driver_error in err
    assert "wrong-secret" not in err
