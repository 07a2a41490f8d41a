"""Errors of the process runtime (``backbeat run``).

BackbeatError
└── ComponentError               a component cannot be chosen, loaded or run
    ├── UnknownComponentError    a name that is not registered (CLI exit code 2)
    ├── ComponentUnavailableError a registered component whose module cannot be loaded (exit 1)
    └── SchemaNotCurrentError    the database is not at the schema this Backbeat needs (exit 1)
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
