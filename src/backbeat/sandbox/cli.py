"""``backbeat sandbox``: the whole bot on this machine, with no Discord account and no Lavalink.

Prints one JSON line on standard output when the page can be used (``{"sandbox": URL,
"panel", "status", "discord": {…}, "lavalink": {…}, …}``), and one line for people on
standard error; runs until SIGTERM or Ctrl-C, then stops everything (exit 0). Exit codes as
``backbeat run``: 1 something failed to start or while running, 2 bad usage or configuration.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from backbeat.cli_command import EXIT_FAILED, EXIT_OK, EXIT_USAGE, Command
from backbeat.config import Settings
from backbeat.errors import BackbeatError, ConfigurationError
from backbeat.observability.logging import configure_logging, get_logger
from backbeat.runtime.errors import UnknownComponentError, describe
from backbeat.runtime.runner import stop_on_signals

DEFAULT_PORT = 8790
_PREFIX = "backbeat sandbox:"
_log = get_logger(__name__)


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"port of the sandbox page on 127.0.0.1 (default {DEFAULT_PORT}; 0: any free port)",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="keep the sandbox's SQLite database here (default: a temporary directory, "
        "removed at exit)",
    )
    parser.add_argument(
        "--log-level",
        default="WARNING",
        help="level of the log lines on standard error (default WARNING)",
    )
    parser.add_argument(
        "--component",
        action="append",
        default=[],
        metavar="NAME",
        help="run only these components (repeatable; default: every registered one)",
    )


def _no_voice_library_warning(record: logging.LogRecord) -> bool:
    """Drop discord.py's "voice will NOT be supported": Lavalink carries the sandbox's voice."""
    return "voice will NOT be supported" not in record.getMessage()


def _announce(line: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(line) + "\n")
    sys.stdout.flush()
    print(
        f"Backbeat sandbox ready: open {line['sandbox']} in a browser (Ctrl-C stops it).",
        file=sys.stderr,
        flush=True,
    )


async def _serve(args: argparse.Namespace, settings: Settings, data_dir: Path) -> None:
    from backbeat.sandbox.runner import run_sandbox  # the emulators load only when used

    stop = asyncio.Event()
    with stop_on_signals(stop):
        await run_sandbox(
            settings,
            data_dir=data_dir,
            stop=stop,
            ready=_announce,
            page_port=args.port,
            components=list(args.component),
        )


def _run(args: argparse.Namespace, settings: Settings) -> int:
    if not 0 <= args.port <= 65535:
        print(f"{_PREFIX} --port must be 0..65535", file=sys.stderr)
        return EXIT_USAGE
    configure_logging(level=str(args.log_level).upper(), fmt="console", secrets=settings.secrets())
    logging.getLogger("discord.client").addFilter(_no_voice_library_warning)
    temporary = args.data_dir is None
    data_dir = Path(tempfile.mkdtemp(prefix="backbeat-sandbox-")) if temporary else args.data_dir
    try:
        asyncio.run(_serve(args, settings, data_dir))
    except UnknownComponentError as error:
        print(f"{_PREFIX} {error}", file=sys.stderr)
        return EXIT_USAGE
    except ConfigurationError as error:
        print(f"backbeat: invalid configuration: {error}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as error:
        print(f"{_PREFIX} cannot listen: {describe(error)}", file=sys.stderr)
        return EXIT_FAILED
    except BackbeatError as error:
        _log.debug("sandbox failed", exc_info=error)
        print(f"{_PREFIX} {error}", file=sys.stderr)
        return EXIT_FAILED
    except Exception as error:  # the command's boundary: anything else, one line
        _log.debug("sandbox failed", exc_info=error)
        print(f"{_PREFIX} {describe(error)}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        if temporary:
            shutil.rmtree(data_dir, ignore_errors=True)
    return EXIT_OK


COMMANDS: list[Command] = [
    Command(
        "sandbox",
        "run the whole bot locally against emulated Discord and Lavalink, with a page to use it",
        _arguments,
        _run,
    ),
]
