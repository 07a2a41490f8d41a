"""A running panel for tests: the Discord emulator, a migrated database, a bus, a cache
store, and the real app served by uvicorn on a free port, with a clock tests can move.

The sandbox world: guild "Sandbox" owned by alice, where bob manages through a role with
MANAGE_GUILD, dave is an administrator and carol is a plain member; guild "Elsewhere" owned
by the emulator's owner, where alice is a plain member; guild "Botless" owned by alice that
the bot is not in.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html import unescape
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncEngine

from backbeat.bus.streams import StreamBus
from backbeat.cache import CacheKeys, CacheStore, MemoryCacheStore, RedisCacheStore, SettingsCache
from backbeat.config import DiscordSettings, PanelSettings, Settings, load_settings
from backbeat.db.engine import create_engine
from backbeat.db.migrate import migrate_to
from backbeat.db.models import Base
from backbeat.db.repositories.configuration import ConfigurationRepository
from backbeat.panel.app import create_app
from backbeat.panel.component import build_deps
from backbeat.panel.deps import PanelDeps
from backbeat.panel.ratelimit import LoginLimiter
from backbeat.panel.server import PanelServer, bind
from backbeat.testing.backends import run_sync
from backbeat.testing.discord import DiscordEmulator
from backbeat.testing.discord.world import ADMINISTRATOR, GUILD_VOICE

SECRET = "s" * 40
MANAGE_GUILD = 1 << 5


@dataclass
class MovableClock:
    """UTC now plus an offset tests advance."""

    offset: timedelta = field(default_factory=timedelta)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)


@dataclass
class PanelRig:
    discord: DiscordEmulator
    engine: AsyncEngine
    bus: StreamBus
    cache: CacheStore
    keys: CacheKeys
    deps: PanelDeps
    server: PanelServer
    clock: MovableClock
    url: str
    ids: dict[str, int]

    def client(self) -> httpx.AsyncClient:
        """A browser-like client (own cookie jar), redirects not followed."""
        return httpx.AsyncClient(base_url=self.url, follow_redirects=False, timeout=20.0)


def populate(discord: DiscordEmulator) -> dict[str, int]:
    world = discord.world
    ids: dict[str, int] = {}
    for name in ("alice", "bob", "carol", "dave"):
        ids[name] = world.create_user(name).id
    sandbox = world.create_guild("Sandbox", owner_id=ids["alice"])
    ids["sandbox"] = sandbox.id
    mods = world.create_role(sandbox.id, "Mods", MANAGE_GUILD)
    admins = world.create_role(sandbox.id, "Admins", ADMINISTRATOR)
    dj = world.create_role(sandbox.id, "DJ", 0)
    ids.update(mods=mods.id, admins=admins.id, dj=dj.id)
    ids["general"] = world.create_channel(sandbox.id, "general").id
    ids["music"] = world.create_channel(sandbox.id, "music").id
    ids["lounge"] = world.create_channel(sandbox.id, "Lounge", GUILD_VOICE).id
    world.add_member(sandbox.id, ids["bob"], roles=[mods.id])
    world.add_member(sandbox.id, ids["carol"])
    world.add_member(sandbox.id, ids["dave"], roles=[admins.id])
    elsewhere = world.create_guild("Elsewhere")
    ids["elsewhere"] = elsewhere.id
    world.create_channel(elsewhere.id, "lobby")
    world.add_member(elsewhere.id, ids["alice"])
    botless = world.create_guild("Botless", owner_id=ids["alice"])
    del botless.members[world.bot.id]
    ids["botless"] = botless.id
    return ids


def settings_for(discord: DiscordEmulator, **panel: object) -> Settings:
    base = load_settings(env_file=None)
    return base.model_copy(
        update={
            "discord": DiscordSettings(
                _env_file=None,  # type: ignore[call-arg]
                discord_token=discord.token,
                discord_api_base=discord.rest_url,
            ),
            "panel": PanelSettings(
                _env_file=None,  # type: ignore[call-arg]
                panel_session_secret=SECRET,
                panel_oauth_client_secret=discord.oauth.client_secret,
                panel_port=0,
                **panel,
            ),
        }
    )


async def start_rig(
    *,
    engine: AsyncEngine,
    bus: StreamBus,
    login_limit: int = 1000,
    public_url: str | None = None,
    panel: dict[str, object] | None = None,
    cache: CacheStore | None = None,
    keys: CacheKeys | None = None,
) -> AsyncIterator[PanelRig]:
    """Start everything; yields the rig and stops it afterwards (closing ``cache``)."""
    discord = DiscordEmulator()
    await discord.start()
    ids = populate(discord)
    store = cache or MemoryCacheStore()
    names = keys or CacheKeys()
    settings = settings_for(discord, **(panel or {}))
    settings_cache = SettingsCache(store, ConfigurationRepository(engine), keys=names)
    sock = bind("127.0.0.1", 0)
    port = int(sock.getsockname()[1])
    url = f"http://127.0.0.1:{port}"
    public = public_url or url
    discord.oauth.register_redirect_uri(f"{public}/auth/callback")
    clock = MovableClock()
    deps = build_deps(
        settings,
        engine=engine,
        publish=bus.publish,
        invalidate=settings_cache.invalidate,
        public_url=public,
        clock=clock,
        login_limiter=LoginLimiter(store, limit=login_limit, window_s=60, keys=names),
    )
    server = PanelServer(create_app(deps), host="127.0.0.1", port=port, sock=sock)
    await server.start()
    try:
        yield PanelRig(discord, engine, bus, store, names, deps, server, clock, url, ids)
    finally:
        await server.stop()
        await deps.discord.close()
        await discord.stop()
        await store.close()


_INPUT = re.compile(r'<input type=hidden name="([^"]+)" value="([^"]*)">')


async def start_login(client: httpx.AsyncClient, next_path: str | None = None) -> str:
    """``/login``: returns the emulator's authorize URL the panel redirected to."""
    params = {"next": next_path} if next_path is not None else None
    response = await client.get("/login", params=params)
    assert response.status_code == 303, response.text
    return response.headers["location"]


async def authorize(authorize_url: str, user_id: int) -> str:
    """Pick ``user_id`` on the emulator's page; returns the callback URL it redirects to."""
    async with httpx.AsyncClient(follow_redirects=False, timeout=20.0) as discord:
        page = await discord.get(authorize_url)
        assert page.status_code == 200, page.text
        form = {unescape(k): unescape(v) for k, v in _INPUT.findall(page.text)}
        form["user_id"] = str(user_id)
        origin = "{0.scheme}://{0.netloc}".format(urlsplit(authorize_url))
        answer = await discord.post(f"{origin}/oauth2/authorize", data=form)
        assert answer.status_code == 302, answer.text
        return answer.headers["location"]


async def login(client: httpx.AsyncClient, user_id: int) -> httpx.Response:
    """The whole flow; returns the callback's answer (303 to the target when it worked)."""
    callback = await authorize(await start_login(client), user_id)
    return await client.get(callback)


def query_of(url: str) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(urlsplit(url).query).items()}


async def csrf_of(client: httpx.AsyncClient) -> str:
    response = await client.get("/api/me")
    assert response.status_code == 200, response.text
    token: str = response.json()["csrf_token"]
    return token


# -- fixtures (imported by the conftest of each test directory that uses the rig) --------


async def _migrate(url: str) -> None:
    engine = create_engine(url)
    try:
        await migrate_to(engine, "head")
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def panel_db_url(database_url: str) -> str:
    """The run's database on this backend, migrated once."""
    run_sync(_migrate(database_url))
    return database_url


@pytest.fixture
async def panel_engine(panel_db_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on it, every table emptied first."""
    engine = create_engine(panel_db_url)
    async with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            await connection.execute(delete(table))
    yield engine
    await engine.dispose()


@pytest.fixture
async def rig(
    panel_engine: AsyncEngine, bus: StreamBus, bus_backend: str, request: pytest.FixtureRequest
) -> AsyncIterator[PanelRig]:
    """The running panel over the sandbox world; with ``--bus=redis`` the settings cache is
    in Redis too (under the test's key prefix)."""
    cache: CacheStore | None = None
    keys: CacheKeys | None = None
    if bus_backend == "redis":
        cache = RedisCacheStore.from_url(request.getfixturevalue("redis_url"))
        keys = CacheKeys(request.getfixturevalue("redis_key_prefix"))
    async for running in start_rig(engine=panel_engine, bus=bus, cache=cache, keys=keys):
        yield running
