"""Run components in one process: start in order, serve, stop in reverse order, close.

:func:`run_process` is what ``backbeat run`` (and anything else that hosts components, such
as a sandbox) calls inside its event loop:

1. the status server binds ``STATUS_HOST:STATUS_PORT``; ``/ready`` is false (check
   ``started``) until every component has started, and again from the moment the process
   begins to stop;
2. each component's ``start`` runs in registry order, racing the stop request, so a signal
   during a slow start is obeyed at once (the start is cancelled);
3. one ``process started`` log line names the components and the status URL;
4. the process runs until ``stop`` is set or a component reports a failure;
5. every component whose ``start`` was called is stopped, in reverse order, each within
   ``stop_timeout_s``; then the shared resources close in reverse order of creation, then
   the status server.

Errors after clean-up: :class:`~backbeat.errors.ConfigurationError` as raised;
:class:`ComponentStartError`, :class:`ProcessFailedError`, :class:`ComponentStopError`,
:class:`StatusServerError` otherwise.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Final

from backbeat.config import Settings
from backbeat.errors import ConfigurationError
from backbeat.observability.logging import get_logger
from backbeat.observability.status import StatusServer
from backbeat.runtime.component import Component
from backbeat.runtime.errors import (
    ComponentStartError,
    ComponentStopError,
    ProcessFailedError,
    StatusServerError,
    describe,
)
from backbeat.runtime.process import ProcessContext

STOP_TIMEOUT_S: Final = 10.0
"""How long one component's ``stop`` may take before the process gives up on it."""

STARTED_CHECK: Final = "started"

_log = get_logger(__name__)


async def run_process(
    settings: Settings,
    components: Sequence[Component],
    stop: asyncio.Event,
    *,
    stop_timeout_s: float = STOP_TIMEOUT_S,
    on_started: Callable[[ProcessContext], None] | None = None,
) -> None:
    """Run ``components`` until ``stop`` is set or one fails; returns after a clean stop."""
    names = [component.name for component in components]
    host, port = settings.status.status_host, settings.status.status_port
    status = StatusServer(host=host, port=port, component=",".join(names) or "backbeat")
    process = ProcessContext(settings, status)
    phase = {"started": False}

    async def started() -> bool:
        return phase["started"] and not stop.is_set()

    status.add_readiness_check(STARTED_CHECK, started)
    try:
        await status.start()
    except OSError as bind_error:
        raise StatusServerError(host, port, bind_error) from bind_error
    called: list[Component] = []
    error: BaseException | None = None
    try:
        error = await _start_all(components, process, stop, called)
        if error is None and not stop.is_set():
            phase["started"] = True
            _log.info("process started", components=names, status_url=status.url, pid=os.getpid())
            if on_started is not None:
                on_started(process)
            error = await _run_until_stopped(process, stop)
    finally:
        stop.set()  # /ready is false from here on
        failed = await _stop_all(called, stop_timeout_s)
        await process.close()
        await status.stop()
        _log.info("process stopped", components=names)
    if error is not None:
        raise error
    if failed:
        raise ComponentStopError(failed)


async def _start_all(
    components: Sequence[Component],
    process: ProcessContext,
    stop: asyncio.Event,
    called: list[Component],
) -> BaseException | None:
    """Start each component in turn; the error that ended the start, if any."""
    for component in components:
        if process.failure.done():
            return ProcessFailedError(process.failure.result())
        if stop.is_set():
            return None
        called.append(component)
        _log.info("component starting", component=component.name)
        starting = asyncio.ensure_future(component.start(process))
        stopping = asyncio.ensure_future(stop.wait())
        waiters: set[asyncio.Future[Any]] = {starting, stopping, process.failure}
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
        if not starting.done():
            starting.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await starting
            _log.info("component start abandoned", component=component.name)
            if process.failure.done():
                return ProcessFailedError(process.failure.result())
            return None
        error = starting.exception()
        if error is not None:
            _log.debug("component failed to start", component=component.name, exc_info=error)
            if isinstance(error, ConfigurationError):
                return error
            return ComponentStartError(component.name, error)
        _log.info("component started", component=component.name)
    return None


async def _run_until_stopped(process: ProcessContext, stop: asyncio.Event) -> BaseException | None:
    stopping = asyncio.ensure_future(stop.wait())
    waiters: set[asyncio.Future[Any]] = {stopping, process.failure}
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
    if process.failure.done():
        failure = process.failure.result()
        _log.error("stopping after a failure", error=describe(failure))
        return ProcessFailedError(failure)
    return None


async def _stop_all(components: Sequence[Component], timeout_s: float) -> list[str]:
    """Stop components in reverse order, each within ``timeout_s``; the names that failed."""
    failed: list[str] = []
    for component in reversed(components):
        try:
            await asyncio.wait_for(component.stop(), timeout_s)
        except TimeoutError:
            _log.error("component did not stop in time", component=component.name, s=timeout_s)
            failed.append(component.name)
        except Exception as error:
            _log.error("component failed to stop", component=component.name, error=describe(error))
            _log.debug("stop failure", component=component.name, exc_info=error)
            failed.append(component.name)
        else:
            _log.info("component stopped", component=component.name)
    return failed


@contextlib.contextmanager
def stop_on_signals(stop: asyncio.Event) -> Iterator[None]:
    """SIGTERM or SIGINT sets ``stop``; a second one exits at once with 128 + its number."""
    loop = asyncio.get_running_loop()
    handled = (signal.SIGTERM, signal.SIGINT)

    def received(signum: signal.Signals) -> None:
        if stop.is_set():
            _log.warning("second signal: exiting now", signal=signum.name)
            sys.stderr.flush()
            os._exit(128 + signum.value)
        _log.info("stopping", signal=signum.name)
        stop.set()

    for signum in handled:
        loop.add_signal_handler(signum, received, signum)
    try:
        yield
    finally:
        for signum in handled:
            loop.remove_signal_handler(signum)
