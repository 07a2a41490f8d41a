"""What a component of a Backbeat process is: a name, ``start`` and ``stop``.

A component (audio, gateway, panel) is built by its module's ``COMPONENT_FACTORY`` from the
settings, before anything starts, so configuration problems surface first. The runner then
calls :meth:`Component.start` with the :class:`~backbeat.runtime.process.ProcessContext`
every component of the process shares, in registry order, and :meth:`Component.stop` in
reverse order at shutdown.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from backbeat.config import Settings

if TYPE_CHECKING:
    from backbeat.runtime.process import ProcessContext


class Component(Protocol):
    """One component of a process.

    ``start`` returns once the component runs (its loops started as tasks); it adds the
    component's readiness checks (``<name>.<check>``) and its ``/stats`` section (``<name>``)
    to ``process.status`` and takes shared resources from ``process`` (``await
    process.bus()``, ``await process.database()``). Waiting for a backend that may come later
    belongs in a readiness check, not in ``start``. Raise
    :class:`~backbeat.errors.ConfigurationError` for a setting it cannot use.

    ``stop`` ends what ``start`` began and releases what the component owns (never the shared
    resources: the process closes those). It is called once for every component whose
    ``start`` was called, even when that ``start`` raised or was cancelled, so it must cope
    with a partial start. It is bounded by the runner (see ``STOP_TIMEOUT_S``).
    """

    @property
    def name(self) -> str:
        """The component's registry name (``audio``); prefixes its checks and names its section."""
        ...

    async def start(self, process: ProcessContext) -> None:
        """Start running inside ``process``."""
        ...

    async def stop(self) -> None:
        """Stop running and release what the component owns."""
        ...


ComponentFactory = Callable[[Settings], Component]
"""What a component module exposes as ``COMPONENT_FACTORY``: settings in, a component out.

It may raise :class:`~backbeat.errors.ConfigurationError` (``backbeat run`` then exits 2
naming the variable) and must not do I/O: nothing is running yet when it is called.
"""
