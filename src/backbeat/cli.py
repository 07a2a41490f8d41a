"""The ``backbeat`` command line.

Each subcommand is a :class:`~backbeat.cli_command.Command`. Packages that offer commands
expose ``COMMANDS`` in a ``cli`` module listed in :data:`COMMAND_MODULES`; they are imported
only when the command line is built. Exit codes: 0 ok, 1 the command failed, 2 bad usage or
configuration.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from backbeat import __version__
from backbeat.cli_command import EXIT_OK, EXIT_USAGE, Command
from backbeat.config import DEFAULT_ENV_FILE, Settings, load_settings
from backbeat.errors import ConfigurationError
from backbeat.observability.logging import configure_logging


def _config_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--json", action="store_true", help="print a JSON object instead of a table"
    )


def _config_run(args: argparse.Namespace, settings: Settings) -> int:
    view = settings.public_view()
    if args.json:
        print(json.dumps(view, indent=2))
        return EXIT_OK
    width = max(map(len, view))
    for name, value in view.items():
        print(f"{name.ljust(width)}  {value}")
    return EXIT_OK


#: Modules whose ``COMMANDS`` list joins the command line.
COMMAND_MODULES: tuple[str, ...] = (
    "backbeat.runtime.cli",
    "backbeat.db.cli",
    "backbeat.bus.cli",
    "backbeat.sandbox.cli",
    "backbeat.benchmark.cli",
)

BUILTIN_COMMANDS: list[Command] = [
    Command(
        "config", "print the effective settings, secrets masked", _config_arguments, _config_run
    ),
]


def all_commands() -> list[Command]:
    """Built-in commands followed by those of every module in COMMAND_MODULES."""
    commands = list(BUILTIN_COMMANDS)
    for module in COMMAND_MODULES:
        commands.extend(importlib.import_module(module).COMMANDS)
    return commands


def build_parser(commands: Sequence[Command]) -> argparse.ArgumentParser:
    """The parser with every registered subcommand."""
    parser = argparse.ArgumentParser(prog="backbeat", description="Backbeat music bot platform.")
    parser.add_argument("--version", action="version", version=f"backbeat {__version__}")
    parser.add_argument(
        "--env-file",
        type=Path,
        default=DEFAULT_ENV_FILE,
        help="dotenv file read before the environment (default: .env)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in commands:
        command.add_arguments(
            sub.add_parser(command.name, help=command.help, description=command.help)
        )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    commands = all_commands()
    parser = build_parser(commands)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        settings = load_settings(args.env_file)
    except ConfigurationError as error:
        print(f"backbeat: invalid configuration: {error}", file=sys.stderr)
        return EXIT_USAGE
    configure_logging(
        level=settings.logging.log_level,
        fmt=settings.logging.log_format,
        secrets=settings.secrets(),
    )
    command = next(c for c in commands if c.name == args.command)
    return command.run(args, settings)
