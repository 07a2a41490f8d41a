"""The status server each service process mounts: liveness, readiness and Prometheus metrics.

``GET /health``  200 while the event loop answers (liveness).
``GET /ready``   200 when every readiness check passes, else 503; the body names each check.
``GET /metrics`` the Prometheus text format of :data:`backbeat.observability.metrics.REGISTRY`.

Services register readiness checks (database reachable, bus connected, Lavalink node up) and
may add routes of their own (the panel reads ``/stats`` from here) before :meth:`start`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Self

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from backbeat import __version__
from backbeat.observability.logging import get_logger
from backbeat.observability.metrics import REGISTRY
from backbeat.web import start_site

ReadinessCheck = Callable[[], Awaitable[bool]]

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
        self._started_at = time.monotonic()
        self.app = web.Application()
        self.app.router.add_get("/health", self._health)
        self.app.router.add_get("/ready", self._ready)
        self.app.router.add_get("/metrics", self._metrics)
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    def add_readiness_check(self, name: str, check: ReadinessCheck) -> None:
        """Register a check; /ready is 200 only when all of them return True in time."""
        self._checks[name] = check

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
        uptime = round(time.monotonic() - self._started_at, 3)
        return web.json_response(
            {
                "status": "ok",
                "component": self._component,
                "version": __version__,
                "uptime_s": uptime,
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

    async def _metrics(self, _: web.Request) -> web.Response:
        body = generate_latest(REGISTRY)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
