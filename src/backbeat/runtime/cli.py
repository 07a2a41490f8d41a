"""``backbeat run [COMPONENT…]``: run components in this process until SIGTERM or SIGINT.

Exit codes: 0 stopped on a signal (every component stopped cleanly); 1 a component could not
be loaded, failed to start, failed while running or did not stop in time; 2 an unknown
component name or a configuration problem (with the gateway to run and no Discord token, one
line naming ``BACKBEAT_DISCORD_TOKEN`` and ``backbeat sandbox``). Each failure is one line on
standard error.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from backbeat.cli_command import EXIT_FAILED, EXIT_OK, EXIT_USAGE, Command
from backbeat.config import Settings
from backbeat.errors import BackbeatError, ConfigurationError
from backbeat.observability.logging import get_logger
from backbeat.runtime.component import Component
from backbeat.runtime.errors import UnknownComponentError, describe
from backbeat.runtime.registry import COMPONENT_MODULES, build, component_modules, select
from backbeat.runtime.runner import run_process, stop_on_signals

_log = get_logger(__name__)
_PREFIX = "backbeat run:"
NO_TOKEN = (
    "backbeat run: no Discord token: set BACKBEAT_DISCORD_TOKEN (environment or .env), "
    "or try the whole bot locally with `backbeat sandbox`"
)


def _module_entry(value: str) -> tuple[str, str]:
    name, sep, target = value.partition("=")
    if not sep or not name.strip() or not target.strip():
        raise argparse.ArgumentTypeError(f"expected NAME=MODULE[:FACTORY], got {value!r}")
    return name.strip(), target.strip()


def _arguments(parser: argparse.ArgumentParser) -> None:
    known = ", ".join(COMPONENT_MODULES)
    parser.add_argument(
        "components",
        nargs="*",
        metavar="COMPONENT",
        help=f"components to run (default: all of them; registered: {known})",
    )
    parser.add_argument(
        "--component-module",
        type=_module_entry,
        action="append",
        default=[],
        metavar="NAME=MODULE[:FACTORY]",
        help="register a component from another module (plugins, tests); repeatable",
    )


async def _serve(settings: Settings, components: Sequence[Component]) -> None:
    stop = asyncio.Event()
    with stop_on_signals(stop):
        await run_process(settings, components, stop)


def _fail(message: str, code: int) -> int:
    print(message, file=sys.stderr)
    return code


def _run(args: argparse.Namespace, settings: Settings) -> int:
    modules = component_modules(dict(args.component_module))
    try:
        names = select(args.components, modules)
        if "gateway" in names and settings.discord.discord_token is None:
            return _fail(NO_TOKEN, EXIT_USAGE)
        components = build(settings, names, modules)
        asyncio.run(_serve(settings, components))
    except UnknownComponentError as error:
        return _fail(f"{_PREFIX} {error}", EXIT_USAGE)
    except ConfigurationError as error:
        return _fail(f"backbeat: invalid configuration: {error}", EXIT_USAGE)
    except BackbeatError as error:
        _log.debug("run failed", exc_info=error)
        return _fail(f"{_PREFIX} {error}", EXIT_FAILED)
    except Exception as error:  # the command's boundary: anything else, one line
        _log.debug("run failed", exc_info=error)
        return _fail(f"{_PREFIX} {describe(error)}", EXIT_FAILED)
    return EXIT_OK


COMMANDS: list[Command] = [
    Command(
        "run",
        "run components (audio, …) in this process until SIGTERM or SIGINT",
        _arguments,
        _run,
    ),
]
