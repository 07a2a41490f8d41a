"""Backbeat's error tree.

BackbeatError
├── ConfigurationError      a setting has a value Backbeat cannot use (CLI exit code 2)
└── BackendUnavailableError a server Backbeat depends on (database, Redis, Lavalink) is unreachable
"""

from __future__ import annotations


class BackbeatError(Exception):
    """Base class of every error Backbeat raises on purpose."""


class ConfigurationError(BackbeatError):
    """A setting is invalid; ``variable`` names it as the user writes it (``BACKBEAT_…``)."""

    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(f"{variable}: {problem}")
        self.variable = variable
        self.problem = problem


class BackendUnavailableError(BackbeatError):
    """A backing server could not be reached; ``backend`` names which."""

    def __init__(self, backend: str, detail: str) -> None:
        super().__init__(f"{backend} unavailable: {detail}")
        self.backend = backend
        self.detail = detail
