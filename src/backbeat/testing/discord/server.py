"""The composition: one aiohttp server with the REST API, the gateway and the control API.

``async with DiscordEmulator(token=..., port=0) as discord_emu:`` starts it on a free port;
``discord_emu.rest_url`` / ``gateway_url`` / ``control_url`` are its addresses and
``discord_emu.control`` a ready :class:`ControlClient`. In-process callers can also reach the
:class:`World` directly through ``discord_emu.world``.
"""

from __future__ import annotations

from types import TracebackType

from aiohttp import web

from backbeat.testing.discord.clock import EmulatorClock
from backbeat.testing.discord.control import ControlApi
from backbeat.testing.discord.control_client import ControlClient
from backbeat.testing.discord.events import Events
from backbeat.testing.discord.faults import HttpFaults
from backbeat.testing.discord.gateway import GatewayOptions, GatewayServer
from backbeat.testing.discord.interactions import InteractionService
from backbeat.testing.discord.oauth import OAuthService
from backbeat.testing.discord.ratelimits import RateLimitConfig, RateLimiter
from backbeat.testing.discord.rest import RestApi
from backbeat.testing.discord.snowflakes import SnowflakeGenerator, mint_token, user_id_from_token
from backbeat.testing.discord.stream import EventStream
from backbeat.testing.discord.voice import DEFAULT_VOICE_ENDPOINT, VoiceService
from backbeat.testing.discord.world import GUILD_VOICE, World
from backbeat.testing.voice import VoiceCredentialRegistry
from backbeat.web import start_site


def populate_default_world(world: World) -> dict[str, int]:
    """A guild with a text channel, two voice channels and three users; returns their ids."""
    guild = world.create_guild("Backbeat Sandbox")
    text = world.create_channel(guild.id, "general")
    lounge = world.create_channel(guild.id, "Lounge", GUILD_VOICE)
    studio = world.create_channel(guild.id, "Studio", GUILD_VOICE)
    ids = {"guild": guild.id, "text": text.id, "lounge": lounge.id, "studio": studio.id}
    for name in ("alice", "bob", "carol"):
        user = world.create_user(name)
        world.add_member(guild.id, user.id)
        ids[name] = user.id
    return ids


class DiscordEmulator:
    """A wire-level Discord for discord.py: REST, gateway and control on one port."""

    def __init__(
        self,
        *,
        token: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        shard_count: int = 1,
        voice_registry: VoiceCredentialRegistry | None = None,
        voice_endpoint: str = DEFAULT_VOICE_ENDPOINT,
        rate_limits: RateLimitConfig | None = None,
        gateway_options: GatewayOptions | None = None,
        default_world: bool = False,
        bot_name: str = "Backbeat",
        oauth_client_secret: str | None = None,
    ) -> None:
        self.clock = EmulatorClock()
        if token is None:
            token = mint_token(SnowflakeGenerator(self.clock.now, worker=2).next())
        self.token = token
        self.bot_user_id = user_id_from_token(token)
        self.host = host
        self._port = port
        self.world = World(clock=self.clock, bot_user_id=self.bot_user_id, bot_name=bot_name)
        self.voice_registry = voice_registry or VoiceCredentialRegistry()
        self.limiter = RateLimiter(rate_limits)
        self.http_faults = HttpFaults()
        self.gateway = GatewayServer(self.world, token, gateway_options)
        self.events = Events(self.world, self.gateway)
        self.interactions = InteractionService(self.world, self.events)
        self.voice = VoiceService(self.world, self.events, self.voice_registry, voice_endpoint)
        self.gateway.on_voice_state = self.voice.on_bot_voice_state
        self.rest = RestApi(
            world=self.world,
            gateway=self.gateway,
            events=self.events,
            interactions=self.interactions,
            limiter=self.limiter,
            faults=self.http_faults,
            token=token,
        )
        self.rest.shard_count = shard_count
        self.oauth = OAuthService(self.world, client_secret=oauth_client_secret)
        self.rest.oauth = self.oauth
        self.control_api = ControlApi(
            world=self.world,
            gateway=self.gateway,
            events=self.events,
            interactions=self.interactions,
            voice=self.voice,
            limiter=self.limiter,
            faults=self.http_faults,
            rest=self.rest,
        )
        self.event_stream = EventStream(self.world)
        self.default_ids: dict[str, int] = (
            populate_default_world(self.world) if default_world else {}
        )
        self._runner: web.AppRunner | None = None
        self._control: ControlClient | None = None
        self.port = 0

    @property
    def rest_url(self) -> str:
        return f"http://{self.host}:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://{self.host}:{self.port}/"

    @property
    def oauth_url(self) -> str:
        """Where browsers are sent to log in (Discord's ``/oauth2/authorize``)."""
        return f"http://{self.host}:{self.port}/oauth2/authorize"

    @property
    def control_url(self) -> str:
        return f"http://{self.host}:{self.port}/_control"

    @property
    def control(self) -> ControlClient:
        if self._control is None:
            raise RuntimeError("the emulator is not running")
        return self._control

    def urls(self) -> dict[str, str]:
        """The ready line's content."""
        return {"rest": self.rest_url, "gateway": self.gateway_url, "control": self.control_url}

    def build_app(self) -> web.Application:
        app = web.Application(middlewares=[self.rest.middleware, self.control_api.middleware])
        self.rest.add_routes(app)
        self.oauth.add_routes(app)
        self.control_api.add_routes(app)
        app.router.add_get("/_control/events", self.event_stream.handle)
        app.router.add_get("/", self.gateway.handle)
        return app

    async def start(self) -> None:
        self._runner, self.port = await start_site(
            self.build_app(), host=self.host, port=self._port
        )
        self.gateway.url = self.gateway_url
        self._control = ControlClient(self.control_url)

    async def stop(self) -> None:
        if self._control is not None:
            await self._control.close()
            self._control = None
        self.event_stream.close()
        await self.gateway.close_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> DiscordEmulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()
