"""Run Alembic migrations programmatically on an async engine.

The migration scripts ship inside the package (``backbeat.db:migrations``), so an installed
Backbeat needs no ``alembic.ini``. :func:`migrate_to` moves a database to any revision,
up or down (``head``, ``base``, a revision id, or a relative ``+1``/``-1``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

SCRIPT_LOCATION: Final = "backbeat.db:migrations"

Direction = Literal["upgrade", "downgrade", "none"]


@dataclass(frozen=True)
class MigrationResult:
    """Where a database was before and after :func:`migrate_to` (None: no revision, empty)."""

    before: str | None
    after: str | None
    direction: Direction


def alembic_config() -> Config:
    """An Alembic config pointing at the packaged migration scripts."""
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    return config


def script_directory() -> ScriptDirectory:
    """The packaged migration scripts."""
    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str:
    """The newest revision id."""
    head = script_directory().get_current_head()
    if head is None:  # pragma: no cover - the package always ships revisions
        raise RuntimeError("no migration scripts found")
    return head


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def current_revision(engine: AsyncEngine) -> str | None:
    """The database's revision, None for an empty (never migrated) database."""
    async with engine.connect() as connection:
        return await connection.run_sync(_current)


def _direction(script: ScriptDirectory, current: str | None, target: str) -> Direction:
    if target.startswith("-"):
        return "downgrade"
    if target.startswith("+"):
        return "upgrade"
    if target == "base":
        return "none" if current is None else "downgrade"
    wanted = script.get_revision(target)
    if wanted is None:
        return "none" if current is None else "downgrade"
    if current is None:
        return "upgrade"
    if wanted.revision == current:
        return "none"
    below = {rev.revision for rev in script.iterate_revisions(current, "base")}
    return "downgrade" if wanted.revision in below else "upgrade"


def _migrate(connection: Connection, target: str) -> MigrationResult:
    config = alembic_config()
    config.attributes["connection"] = connection
    script = ScriptDirectory.from_config(config)
    before = _current(connection)
    direction = _direction(script, before, target)
    if direction == "upgrade":
        command.upgrade(config, target)
    elif direction == "downgrade":
        command.downgrade(config, target)
    return MigrationResult(before=before, after=_current(connection), direction=direction)


async def migrate_to(engine: AsyncEngine, target: str = "head") -> MigrationResult:
    """Upgrade or downgrade the database to ``target`` in one transaction where the backend
    allows (PostgreSQL and SQLite roll back a failed migration; MariaDB commits DDL as it goes).

    Unknown revisions raise ``alembic.util.CommandError``.
    """
    async with engine.begin() as connection:
        return await connection.run_sync(_migrate, target)
