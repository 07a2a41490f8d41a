"""The shape of a ``backbeat`` subcommand, shared by the CLI and the packages that add commands.

A package that offers commands (``backbeat.db.cli``, ``backbeat.bus.cli``…) exposes
``COMMANDS: list[Command]``; :mod:`backbeat.cli` lists those modules.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass

from backbeat.config import Settings

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


@dataclass(frozen=True)
class Command:
    """One ``backbeat`` subcommand: its name, help line, arguments and what it runs."""

    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace, Settings], int]
