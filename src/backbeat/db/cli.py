"""``backbeat migrate``: take the configured database to the newest schema, or any revision."""

from __future__ import annotations

import argparse
import asyncio

from alembic.util import CommandError
from sqlalchemy.exc import SQLAlchemyError

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


def _run(args: argparse.Namespace, settings: Settings) -> int:
    url = settings.database.url
    if url.startswith("sqlite"):
        settings.database.data_dir.mkdir(parents=True, exist_ok=True)
    try:
        if args.show:
            return asyncio.run(_show(url))
        return asyncio.run(_migrate(url, args.to))
    except CommandError as error:
        print(f"backbeat migrate: {error}")
        return EXIT_USAGE
    except (SQLAlchemyError, OSError) as error:
        print(f"backbeat migrate: database {mask_url(url)} failed: {error}")
        return EXIT_FAILED


COMMANDS: list[Command] = [
    Command(
        "migrate",
        "migrate the database schema (to the newest revision by default)",
        _arguments,
        _run,
    ),
]
