"""The status server each service process mounts: liveness, readiness and Prometheus metrics.

``GET /health``  200 while the event loop answers (liveness).
``GET /ready``   200 when every readiness check passes, else 503; the body names each check.
``GET /stats``   ``{"component", "version", "uptime_s", "sections": {name: {...}}}``, one
                 section per component of the process (players, shards…).
``GET /metrics`` the Prometheus text format of :data:`backbeat.observability.metrics.REGISTRY`.

One server per process: the process adds the shared checks (``bus``, ``database``), each
component adds checks named ``<component>.<check>`` (``audio.nodes``) and a ``/stats`` section
named after itself. A check or section that fails or times out makes that check false or that
section ``{"error": "..."}`` and logs why; it never turns into a 500.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Self

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from backbeat import __version__
from backbeat.observability.logging import get_logger
from backbeat.observability.metrics import REGISTRY
from backbeat.web import start_site

ReadinessCheck = Callable[[], Awaitable[bool]]
StatsProvider = Callable[[], Awaitable[Mapping[str, Any]] | Mapping[str, Any]]
"""Returns one ``/stats`` section (JSON-serialisable), directly or awaited."""

_log = get_logger(__name__)
_CHECK_TIMEOUT_S = 2.0


class StatusServer:
    """A small aiohttp server; use as an async context manager or call start()/stop()."""

    def __init__(
        self, *, host: str = "127.0.0.1", port: int = 0, component: str = "backbeat"
    ) -> None:
        self._host = host
        self._port = port
        self._component = component
        self._checks: dict[str, ReadinessCheck] = {}
        self._sections: dict[str, StatsProvider] = {}
        self._started_at = time.monotonic()
        self.app = web.Application()
        self.app.router.add_get("/health", self._health)
        self.app.router.add_get("/ready", self._ready)
        self.app.router.add_get("/stats", self._stats)
        self.app.router.add_get("/metrics", self._metrics)
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    def add_readiness_check(self, name: str, check: ReadinessCheck) -> None:
        """Register a check; /ready is 200 only when all of them return True in time.

        Names are unique in the process: ``<component>.<check>``, or ``bus``/``database``
        for the shared resources. A second check under one name raises ValueError.
        """
        if name in self._checks:
            raise ValueError(f"readiness check {name!r} is already registered")
        self._checks[name] = check

    def add_stats_section(self, name: str, provider: StatsProvider) -> None:
        """Register the ``/stats`` section ``name`` (a component's name); ValueError if taken."""
        if name in self._sections:
            raise ValueError(f"stats section {name!r} is already registered")
        self._sections[name] = provider

    @property
    def component(self) -> str:
        """What this process runs, as /health and /stats report it."""
        return self._component

    @property
    def uptime_s(self) -> float:
        """Seconds since the server was made."""
        return round(time.monotonic() - self._started_at, 3)

    @property
    def url(self) -> str:
        """Base URL once started."""
        if self.port is None:
            raise RuntimeError("status server not started")
        return f"http://{self._host}:{self.port}"

    async def start(self) -> None:
        """Bind and serve; with port 0 the chosen port is in :attr:`port`."""
        self._runner, self.port = await start_site(self.app, host=self._host, port=self._port)
        _log.info("status server listening", url=self.url, component=self._component)

    async def stop(self) -> None:
        """Stop serving."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def _health(self, _: web.Request) -> web.Response:
        return web.json_response(
            {
                "status": "ok",
                "component": self._component,
                "version": __version__,
                "uptime_s": self.uptime_s,
            }
        )

    async def _run_check(self, name: str, check: ReadinessCheck) -> bool:
        try:
            return bool(await asyncio.wait_for(check(), _CHECK_TIMEOUT_S))
        except Exception as exc:  # a failing check means "not ready", never a 500
            _log.warning("readiness check failed", check=name, error=repr(exc))
            return False

    async def _ready(self, _: web.Request) -> web.Response:
        names = list(self._checks)
        results = await asyncio.gather(*(self._run_check(n, self._checks[n]) for n in names))
        checks = dict(zip(names, results, strict=True))
        ready = all(results)
        return web.json_response(
            {"status": "ready" if ready else "not ready", "checks": checks},
            status=200 if ready else 503,
        )

    async def _section(self, name: str, provider: StatsProvider) -> Any:
        try:
            value = provider()
            if inspect.isawaitable(value):
                value = await asyncio.wait_for(value, _CHECK_TIMEOUT_S)
            section = dict(value)
            json.dumps(section)  # unserialisable values fail here, in this section alone
        except Exception as exc:  # a failing section is reported in place, never a 500
            _log.warning("stats section failed", section=name, error=repr(exc))
            return {"error": repr(exc) if not str(exc) else f"{type(exc).__name__}: {exc}"}
        return section

    async def _stats(self, _: web.Request) -> web.Response:
        names = list(self._sections)
        values = await asyncio.gather(*(self._section(n, self._sections[n]) for n in names))
        return web.json_response(
            {
                "component": self._component,
                "version": __version__,
                "uptime_s": self.uptime_s,
                "sections": dict(zip(names, values, strict=True)),
            }
        )

    async def _metrics(self, _: web.Request) -> web.Response:
        body = generate_latest(REGISTRY)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
