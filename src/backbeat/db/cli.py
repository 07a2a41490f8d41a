"""``backbeat migrate``: take the configured database to the newest schema, or any revision."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from alembic.util import CommandError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from backbeat.cli_command import EXIT_FAILED, EXIT_OK, EXIT_USAGE, Command
from backbeat.config import Settings, mask_url
from backbeat.db.engine import create_engine
from backbeat.db.migrate import current_revision, head_revision, migrate_to
from backbeat.observability.logging import get_logger

_log = get_logger(__name__)


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--to",
        metavar="REV",
        default="head",
        help="target revision: head (default), base, a revision id, or -1/+1; "
        "lower than the current one downgrades",
    )
    parser.add_argument(
        "--show",
        action="store_true",
        help="print the current and the newest revision, change nothing",
    )


async def _show(url: str) -> int:
    engine = create_engine(url)
    try:
        current = await current_revision(engine)
    finally:
        await engine.dispose()
    head = head_revision()
    state = "up to date" if current == head else "behind"
    print(f"current: {current or 'base (empty)'}  head: {head}  ({state})")
    return EXIT_OK


async def _migrate(url: str, target: str) -> int:
    engine = create_engine(url)
    try:
        result = await migrate_to(engine, target)
    finally:
        await engine.dispose()
    before, after = result.before or "base", result.after or "base"
    if result.direction == "none":
        print(f"already at {after}")
    else:
        print(f"{result.direction}d {before} -> {after}")
    _log.info("migrated", before=before, after=after, direction=result.direction)
    return EXIT_OK


def _one_line(error: BaseException) -> str:
    """The driver's own error, on one line (no SQLAlchemy background link, no SQL)."""
    cause = error.orig if isinstance(error, DBAPIError) and error.orig is not None else error
    text = " ".join(str(cause).split())
    return f"{type(cause).__name__}: {text}" if text else type(cause).__name__


def _sqlite_directory(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    if parsed.database == ":memory:":
        return None
    return Path(parsed.database).parent


def _run(args: argparse.Namespace, settings: Settings) -> int:
    url = settings.database.url
    directory = _sqlite_directory(url)
    try:
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)
        if args.show:
            return asyncio.run(_show(url))
        return asyncio.run(_migrate(url, args.to))
    except CommandError as error:
        print(f"backbeat migrate: {error}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as error:  # the command's boundary: any database failure, one line
        _log.debug("migrate failed", exc_info=True)
        print(
            f"backbeat migrate: database {mask_url(url)} failed: {_one_line(error)}",
            file=sys.stderr,
        )
        return EXIT_FAILED


COMMANDS: list[Command] = [
    Command(
        "migrate",
        "migrate the database schema (to the newest revision by default)",
        _arguments,
        _run,
    ),
]
