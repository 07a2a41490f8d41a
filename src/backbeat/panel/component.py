"""``backbeat run panel``: the control panel as a component of a Backbeat process.

It takes the process's database engine, bus and cache store (shared with the gateway under
``cache``), serves the app on ``PANEL_HOST:PANEL_PORT`` with uvicorn, adds the ``panel.http``
readiness check and the ``panel`` ``/stats`` section, and deletes expired sessions and logins
every few minutes.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from backbeat.cache import CacheStore, SettingsCache, cache_keys, create_cache_store
from backbeat.config import Settings
from backbeat.db.repositories.audit import AuditRepository
from backbeat.db.repositories.configuration import ConfigurationRepository
from backbeat.db.repositories.panel import PanelRepository
from backbeat.db.repositories.queue import QueueRepository
from backbeat.errors import ConfigurationError
from backbeat.observability.logging import get_logger
from backbeat.panel.app import create_app
from backbeat.panel.deps import Invalidate, PanelDeps, Publish, utc_clock
from backbeat.panel.discord_api import DiscordApi
from backbeat.panel.ratelimit import LoginLimiter
from backbeat.panel.server import PanelServer, bind
from backbeat.panel.tokens import Signer
from backbeat.runtime import ProcessContext

NAME = "panel"
CACHE_RESOURCE = "cache"
PURGE_EVERY_S = 300.0
_log = get_logger(__name__)


async def _close_cache(store: CacheStore) -> None:
    await store.close()


def client_id_of(settings: Settings) -> int:
    """The OAuth2 client id: ``PANEL_OAUTH_CLIENT_ID``, else the bot's user id."""
    client_id = settings.panel.panel_oauth_client_id or settings.discord.bot_user_id
    if client_id is None:
        raise ConfigurationError(
            "BACKBEAT_PANEL_OAUTH_CLIENT_ID", "the panel needs the Discord application's id"
        )
    return client_id


def check_settings(settings: Settings) -> None:
    """Raise ConfigurationError for what the panel cannot run without."""
    if settings.panel.panel_session_secret is None:
        raise ConfigurationError(
            "BACKBEAT_PANEL_SESSION_SECRET", "the panel needs a secret of 32+ characters"
        )
    if settings.panel.panel_oauth_client_secret is None:
        raise ConfigurationError(
            "BACKBEAT_PANEL_OAUTH_CLIENT_SECRET", "the panel needs the OAuth2 client secret"
        )
    client_id_of(settings)


def build_deps(
    settings: Settings,
    *,
    engine: AsyncEngine,
    publish: Publish,
    invalidate: Invalidate,
    public_url: str,
    login_limiter: LoginLimiter,
    clock: Any = utc_clock,
) -> PanelDeps:
    """The app's dependencies from settings and the process's resources."""
    check_settings(settings)
    panel = settings.panel
    secret = panel.panel_session_secret
    client_secret = panel.panel_oauth_client_secret
    assert secret is not None
    assert client_secret is not None
    token = settings.discord.discord_token
    return PanelDeps(
        settings=panel,
        public_url=public_url,
        signer=Signer(secret.get_secret_value()),
        discord=DiscordApi(
            api_base=settings.discord.discord_api_base,
            bot_token=token.get_secret_value() if token is not None else None,
            client_id=client_id_of(settings),
            client_secret=client_secret.get_secret_value(),
        ),
        engine=engine,
        panel=PanelRepository(engine),
        configuration=ConfigurationRepository(engine),
        audit=AuditRepository(engine),
        queues=QueueRepository(engine),
        publish=publish,
        invalidate=invalidate,
        login_limiter=login_limiter,
        clock=clock,
    )


class PanelComponent:
    """The panel component (built by :data:`COMPONENT_FACTORY`)."""

    def __init__(self, settings: Settings) -> None:
        check_settings(settings)
        self._settings = settings
        self._server: PanelServer | None = None
        self._deps: PanelDeps | None = None
        self._purge: asyncio.Task[Any] | None = None

    @property
    def name(self) -> str:
        return NAME

    @property
    def port(self) -> int | None:
        """The bound port once started."""
        return self._server.port if self._server is not None else None

    async def start(self, process: ProcessContext) -> None:
        settings = self._settings
        engine = await process.database()
        bus = await process.bus()

        async def create() -> CacheStore:
            return create_cache_store(settings)

        cache = await process.shared(CACHE_RESOURCE, create, _close_cache)
        settings_cache = SettingsCache(
            cache, ConfigurationRepository(engine), keys=cache_keys(settings)
        )
        panel = settings.panel
        # Bind first so the public URL of port 0 is known before the app is built.
        sock = bind(panel.panel_host, panel.panel_port)
        port = int(sock.getsockname()[1])
        public_url = (
            panel.panel_public_url
            or settings.panel.model_copy(update={"panel_port": port}).public_url
        )
        deps = build_deps(
            settings,
            engine=engine,
            publish=bus.publish,
            invalidate=settings_cache.invalidate,
            public_url=public_url,
            login_limiter=LoginLimiter(
                cache,
                limit=panel.panel_login_limit,
                window_s=panel.panel_login_window_s,
                keys=cache_keys(settings),
            ),
        )
        self._deps = deps
        self._server = PanelServer(create_app(deps), host=panel.panel_host, port=port, sock=sock)
        await self._server.start()
        process.status.add_readiness_check(f"{NAME}.http", self._ready)
        process.status.add_stats_section(NAME, self._stats)
        self._purge = process.create_task(self._purge_loop(deps), name="panel-purge")
        _log.info("panel started", public_url=public_url, redirect_uri=deps.redirect_uri)

    async def _ready(self) -> bool:
        return self._server is not None and self._server.running

    async def _stats(self) -> dict[str, Any]:
        deps = self._deps
        if deps is None:
            return {"running": False}
        return {
            "running": self._server is not None and self._server.running,
            "port": self.port,
            "public_url": deps.public_url,
            "sessions": await deps.panel.count_sessions(datetime.now(UTC)),
            "discord_calls": deps.discord.calls,
        }

    async def _purge_loop(self, deps: PanelDeps) -> None:
        while True:
            await asyncio.sleep(PURGE_EVERY_S)
            try:
                removed = await deps.panel.delete_expired(deps.clock())
            except Exception as error:  # a failed purge is retried next round
                _log.warning("panel purge failed", error=repr(error))
                continue
            if removed:
                _log.info("panel expired sessions deleted", rows=removed)

    async def stop(self) -> None:
        if self._purge is not None:
            self._purge.cancel()
            await asyncio.gather(self._purge, return_exceptions=True)
            self._purge = None
        if self._server is not None:
            await self._server.stop()
            self._server = None
        if self._deps is not None:
            await self._deps.discord.close()
            self._deps = None


COMPONENT_FACTORY = PanelComponent
