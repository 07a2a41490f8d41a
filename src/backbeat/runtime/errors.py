"""Errors of the process runtime (``backbeat run``).

BackbeatError
└── ComponentError               a component cannot be chosen, loaded or run
    ├── UnknownComponentError    a name that is not registered (CLI exit code 2)
    ├── ComponentUnavailableError a registered component whose module or factory fails (exit 1)
    ├── SchemaNotCurrentError    the database is not at the schema this Backbeat needs (exit 1)
    ├── ComponentStartError      a component's ``start`` raised (exit 1)
    ├── ProcessFailedError       a running component failed, the process stopped (exit 1)
    ├── ComponentStopError       a component did not stop cleanly or in time (exit 1)
    └── StatusServerError        the status server cannot listen (exit 1)

A :class:`~backbeat.errors.ConfigurationError` from a factory or a ``start`` is never wrapped:
``backbeat run`` reports it as any bad setting (exit 2).
"""

from __future__ import annotations

from collections.abc import Iterable

from backbeat.errors import BackbeatError


class ComponentError(BackbeatError):
    """Base class of the runtime's errors."""


class UnknownComponentError(ComponentError):
    """``names`` are not registered; ``known`` are the ones that are."""

    def __init__(self, names: Iterable[str], known: Iterable[str]) -> None:
        self.names = tuple(names)
        self.known = tuple(known)
        listed = ", ".join(self.known) or "(none)"
        which = ", ".join(repr(name) for name in self.names)
        noun = "component" if len(self.names) == 1 else "components"
        super().__init__(f"unknown {noun} {which} (known: {listed})")


class ComponentUnavailableError(ComponentError):
    """Component ``name`` is registered but its module or factory cannot be loaded."""

    def __init__(self, name: str, detail: str) -> None:
        self.name = name
        self.detail = detail
        super().__init__(f"component {name!r} is not available: {detail}")


class SchemaNotCurrentError(ComponentError):
    """The database's schema revision is not the newest one this Backbeat ships."""

    def __init__(self, database: str, current: str | None, head: str) -> None:
        self.database = database
        self.current = current
        self.head = head
        super().__init__(
            f"database {database} is at schema {current or 'base (empty)'}, this Backbeat "
            f"needs {head}: run `backbeat migrate`"
        )


class ComponentStartError(ComponentError):
    """Component ``name`` raised ``error`` from its ``start`` (CLI exit code 1)."""

    def __init__(self, name: str, error: BaseException) -> None:
        self.name = name
        self.error = error
        super().__init__(f"component {name!r} failed to start: {describe(error)}")


class ProcessFailedError(ComponentError):
    """A running component reported ``error`` (a supervised task raised, or ``fail`` was called)."""

    def __init__(self, error: BaseException) -> None:
        self.error = error
        super().__init__(f"stopped after a failure: {describe(error)}")


class ComponentStopError(ComponentError):
    """Components ``names`` did not stop cleanly (raised, or overran the stop bound)."""

    def __init__(self, names: Iterable[str]) -> None:
        self.names = tuple(names)
        listed = ", ".join(repr(name) for name in self.names)
        super().__init__(f"did not stop cleanly: {listed}")


class StatusServerError(ComponentError):
    """The status server cannot listen on ``host:port``."""

    def __init__(self, host: str, port: int, error: BaseException) -> None:
        self.host = host
        self.port = port
        super().__init__(
            f"the status server cannot listen on {host}:{port} "
            f"(BACKBEAT_STATUS_HOST/BACKBEAT_STATUS_PORT): {describe(error)}"
        )


def describe(error: BaseException) -> str:
    """An error on one line: its message, or its type when it has none."""
    text = " ".join(str(error).split())
    if isinstance(error, BackbeatError):
        return text or type(error).__name__
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
