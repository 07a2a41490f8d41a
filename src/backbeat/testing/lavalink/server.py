"""The emulated Lavalink node as an aiohttp server, usable in-process or from the command line.

``async with LavalinkEmulator(password="pw") as node:`` serves REST and WebSocket on
``node.rest_url`` / ``node.ws_url`` and the control API on ``node.control_url``;
``node.control`` is the same control API as Python calls. ``kill()`` makes the port refuse
connections (state kept, like a network partition, unless ``lose_state``); ``restart()``
listens again on the same port.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import TracebackType
from typing import Any, cast

from aiohttp import web

from backbeat.observability.logging import get_logger
from backbeat.testing.lavalink.clock import Clock, ManualClock, ScaledClock
from backbeat.testing.lavalink.control import EmulatorControl, control_routes
from backbeat.testing.lavalink.faults import FaultPlan
from backbeat.testing.lavalink.gateway import Gateway
from backbeat.testing.lavalink.node import LavalinkNode, NodeConfig, TrackCatalog
from backbeat.testing.lavalink.responses import (
    API_VERSION,
    API_VERSION_HEADER,
    ApiError,
    error_response,
)
from backbeat.testing.lavalink.rest import RestApi
from backbeat.testing.lavalink.voice_check import (
    AcceptAnyVoice,
    DiscordControlVoiceVerifier,
    RegistryVoiceVerifier,
    VoiceVerifier,
)
from backbeat.testing.voice import VoiceCredentialRegistry
from backbeat.web import start_site

_log = get_logger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

#: How often (real seconds) the playback loop looks at the clock.
TICK_SECONDS = 0.02


def _load_catalog(catalog: TrackCatalog | str | Path | None) -> TrackCatalog:
    if catalog is not None and not isinstance(catalog, str | Path):
        return catalog
    from backbeat.testing.lavalink.catalog import Catalog

    if catalog is None:
        return cast(TrackCatalog, Catalog.default())
    return cast(TrackCatalog, Catalog.from_file(Path(catalog)))


class LavalinkEmulator:
    """One emulated Lavalink v4 node on a real port."""

    def __init__(
        self,
        *,
        password: str = "youshallnotpass",
        host: str = "127.0.0.1",
        port: int = 0,
        speed: float = 1.0,
        manual_clock: bool = False,
        clock: Clock | None = None,
        catalog: TrackCatalog | str | Path | None = None,
        player_update_interval: float = 5.0,
        stats_interval: float = 60.0,
        cleanup_threshold_ms: int = 60_000,
        voice_registry: VoiceCredentialRegistry | None = None,
        discord_control_url: str | None = None,
        route_planner: bool = False,
        disabled_filters: frozenset[str] = frozenset(),
        version: str = "4.2.2",
    ) -> None:
        if clock is None:
            clock = ManualClock() if manual_clock else ScaledClock(speed)
        verifier: VoiceVerifier = AcceptAnyVoice()
        if voice_registry is not None:
            verifier = RegistryVoiceVerifier(voice_registry)
        elif discord_control_url is not None:
            verifier = DiscordControlVoiceVerifier(discord_control_url)
        config = NodeConfig(
            password=password,
            player_update_interval=player_update_interval,
            stats_interval=stats_interval,
            cleanup_threshold_ms=cleanup_threshold_ms,
            version=version,
            route_planner=route_planner,
            disabled_filters=disabled_filters,
        )
        self.faults = FaultPlan()
        #: Every REST request (not control, not the WebSocket) in arrival order, for tests
        #: that prove a request was never made (a cache hit, a refused URL).
        self.requests: collections.deque[dict[str, Any]] = collections.deque(maxlen=10_000)
        self.node = LavalinkNode(config, clock, _load_catalog(catalog), self.faults, verifier)
        self.gateway = Gateway(self.node)
        self.control = EmulatorControl(self)
        self._host = host
        self._port = port
        self._runner: web.AppRunner | None = None
        self._ticker: asyncio.Task[None] | None = None
        self._restart_task: asyncio.Task[None] | None = None

    # ----- addresses -----------------------------------------------------------------

    @property
    def host(self) -> str:
        return self._host

    @property
    def port(self) -> int:
        return self._port

    @property
    def password(self) -> str:
        return self.node.config.password

    @property
    def rest_url(self) -> str:
        return f"http://{self._host}:{self._port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self._host}:{self._port}/v4/websocket"

    @property
    def control_url(self) -> str:
        return f"{self.rest_url}/_control"

    @property
    def running(self) -> bool:
        return self._runner is not None

    def ready_line(self) -> dict[str, str]:
        """The JSON object printed when the command-line server is ready."""
        return {"rest": self.rest_url, "gateway": self.ws_url, "control": self.control_url}

    # ----- lifecycle -----------------------------------------------------------------

    async def __aenter__(self) -> LavalinkEmulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def _app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware])
        app.add_routes(RestApi(self.node).routes())
        app.add_routes([self.gateway.route()])
        app.add_routes(control_routes(self.control))
        return app

    async def start(self) -> None:
        """Listen (on the same port again after a kill) and start the playback loop."""
        if self._runner is not None:
            return
        self._runner, self._port = await start_site(
            self._app(),
            host=self._host,
            port=self._port,
            shutdown_timeout=0.5,
            reuse_address=True,
        )
        if self._ticker is None:
            self._ticker = asyncio.create_task(self._tick_loop())
        _log.info("lavalink_emulator.started", url=self.rest_url)

    async def _close_listener(self) -> None:
        runner, self._runner = self._runner, None
        if runner is None:
            return
        await self.gateway.drop(code=None)
        for ws in list(self.gateway.sockets):
            with contextlib.suppress(Exception):
                await ws.close()
        await runner.cleanup()

    async def stop(self) -> None:
        """Stop serving and the playback loop."""
        if self._restart_task is not None:
            self._restart_task.cancel()
            self._restart_task = None
        await self._close_listener()
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
            self._ticker = None

    async def kill(self, *, lose_state: bool = False) -> None:
        """Refuse connections from now on; every socket is cut without a close frame.

        Resumable sessions wait for their resume timeout as after any lost socket; with
        ``lose_state`` the node forgets everything, as a crashed process does.
        """
        await self._close_listener()
        if lose_state:
            self.node.lose_state()
        _log.info("lavalink_emulator.killed", lose_state=lose_state)

    async def restart(self) -> None:
        """Listen again on the same port."""
        await self.start()

    def schedule_restart(self, delay_seconds: float) -> None:
        async def later() -> None:
            await asyncio.sleep(delay_seconds)
            await self.restart()

        self._restart_task = asyncio.create_task(later())

    async def _tick_loop(self) -> None:
        while True:
            try:
                await self.node.tick()
            except Exception:
                _log.exception("lavalink_emulator.tick_failed")
            await asyncio.sleep(TICK_SECONDS)

    # ----- HTTP middleware -----------------------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        path = request.path
        if path.startswith("/_control"):
            return await handler(request)
        if path != "/v4/websocket":
            self.requests.append(
                {"method": request.method, "path": path, "query": dict(request.query)}
            )
        delay_ms = self.faults.take_delay_ms(path)
        if delay_ms:
            await asyncio.sleep(delay_ms / 1000.0)
        if path == "/v4/websocket":
            return await handler(request)
        response = await self._answer(request, handler)
        response.headers[API_VERSION_HEADER] = API_VERSION
        return response

    async def _answer(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        authorization = request.headers.get("Authorization")
        if authorization is None:
            return web.Response(status=401)
        if authorization != self.node.config.password:
            return web.Response(status=403)
        injected = self.faults.take_http_fault(request.path)
        if injected is not None:
            return error_response(request, injected.status, injected.message or "Injected failure")
        try:
            return await handler(request)
        except ApiError as exc:
            return error_response(request, exc.status, exc.message, exc.trace)
        except web.HTTPException as exc:
            return error_response(request, exc.status, exc.reason)
        except Exception as exc:
            _log.exception("lavalink_emulator.handler_failed", path=request.path)
            return error_response(request, 500, str(exc) or type(exc).__name__)

    def state(self) -> dict[str, Any]:
        """Every session and player, for inspection."""
        now = self.node.now()
        return {
            "running": self.running,
            "clockMs": now,
            "sessions": [s.to_json(now) for s in self.node.sessions.values()],
            "faults": self.faults.to_json(),
        }
