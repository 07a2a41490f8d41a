"""The sandbox page and the small JSON API it uses, served on 127.0.0.1.

The page (``static/``: plain HTML, CSS and JavaScript, no dependencies) never talks to the
emulators itself: this server answers it from the Discord emulator's control API and the
Lavalink emulator's control API, so the page stays same-origin.

* ``GET /api/sandbox``: the guild, its text and voice channels, the three sandbox users, the
  control panel's address (when the panel runs).
* ``GET /api/view?user=U&channel=C``: what user U sees now: the channel's messages (ephemeral
  ones only when U's interaction made them), everyone's voice state, the synced commands.
* ``POST /api/command``, ``/api/autocomplete``, ``/api/click``, ``/api/voice``: what a Discord
  client would send for U (a slash command, an autocomplete query, a button or select, a
  voice join or leave).
* ``GET /api/player``: the bot's Lavalink player in the sandbox guild (or ``null``).
* ``GET /api/events``: Server-Sent Events: ``world`` (forwarded from the Discord emulator's
  ``/_control/events``) and ``player`` (the player, when it changed).
* ``GET /art?url=``: an SVG cover for artwork on ``.invalid`` hosts (the emulator's catalog),
  so embeds show an image without any request leaving the machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote, urlsplit

import aiohttp
from aiohttp import web

from backbeat.observability.logging import get_logger
from backbeat.testing.discord.control_client import ControlClient, ControlError
from backbeat.testing.lavalink.control_client import LavalinkControlClient
from backbeat.web import start_site

STATIC = Path(__file__).with_name("static")
EPHEMERAL: Final = 1 << 6
LOADING: Final = 1 << 7
SUB_COMMAND: Final = 1
PLAYER_POLL_S: Final = 0.5
PLAYER_RESYNC_S: Final = 5.0
AUTOCOMPLETE_WAIT_S: Final = 5.0
ALLOWED_HOSTS: Final = frozenset({"127.0.0.1", "localhost", "::1"})

_log = get_logger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class SandboxUser:
    """One of the people the page can act as."""

    id: int
    name: str
    manager: bool

    def to_json(self) -> dict[str, Any]:
        return {"id": str(self.id), "name": self.name, "manager": self.manager}


@dataclass(frozen=True)
class SandboxGuild:
    """The sandbox guild as the page shows it."""

    id: int
    name: str
    text_channels: list[tuple[int, str]]
    voice_channels: list[tuple[int, str]]
    users: list[SandboxUser]
    bot_id: int
    bot_name: str

    def to_json(self) -> dict[str, Any]:
        return {
            "guild": {"id": str(self.id), "name": self.name},
            "bot": {"id": str(self.bot_id), "name": self.bot_name},
            "text_channels": [{"id": str(i), "name": n} for i, n in self.text_channels],
            "voice_channels": [{"id": str(i), "name": n} for i, n in self.voice_channels],
            "users": [user.to_json() for user in self.users],
        }


class SandboxPage:
    """The page's web server (start with :meth:`start`, stop with :meth:`stop`)."""

    def __init__(
        self,
        guild: SandboxGuild,
        *,
        discord_control_url: str,
        lavalink_control_url: str,
        host: str = "127.0.0.1",
        port: int = 0,
        panel_url: str | None = None,
    ) -> None:
        self.guild = guild
        self.panel_url = panel_url
        self.discord_control_url = discord_control_url.rstrip("/")
        self.discord = ControlClient(self.discord_control_url)
        self.lavalink = LavalinkControlClient(lavalink_control_url)
        self.host = host
        self._port = port
        self.port = 0
        self._runner: web.AppRunner | None = None
        self._http: aiohttp.ClientSession | None = None
        self._closing = asyncio.Event()
        self._users = {user.id: user for user in guild.users}
        self._channels = {cid for cid, _ in guild.text_channels}
        self._voice = {cid for cid, _ in guild.voice_channels}

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    # -- lifecycle ----------------------------------------------------------------------------

    def build_app(self) -> web.Application:
        app = web.Application(middlewares=[self._guard])
        app.router.add_get("/", self._index)
        app.router.add_static("/static/", STATIC, show_index=False)
        app.router.add_get("/art", self._art)
        app.router.add_get("/api/sandbox", self._sandbox)
        app.router.add_get("/api/view", self._view)
        app.router.add_get("/api/player", self._player)
        app.router.add_get("/api/events", self._events)
        app.router.add_post("/api/command", self._command)
        app.router.add_post("/api/autocomplete", self._autocomplete)
        app.router.add_post("/api/click", self._click)
        app.router.add_post("/api/voice", self._move_voice)
        return app

    async def start(self) -> None:
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None))
        self._runner, self.port = await start_site(
            self.build_app(), host=self.host, port=self._port
        )
        _log.info("sandbox page listening", url=self.url)

    async def stop(self) -> None:
        self._closing.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await self.discord.close()
        await self.lavalink.close()
        if self._http is not None:
            await self._http.close()
            self._http = None

    # -- middleware ---------------------------------------------------------------------------

    @web.middleware
    async def _guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Only loopback host names (no DNS rebinding); errors as ``{"error"}`` JSON."""
        if request.url.host not in ALLOWED_HOSTS:
            return web.json_response({"error": "unknown host"}, status=421)
        try:
            response = await handler(request)
        except ControlError as error:
            return web.json_response({"error": str(error)}, status=error.status)
        except (KeyError, ValueError, TypeError) as error:
            return web.json_response({"error": f"bad request: {error}"}, status=400)
        if isinstance(response, web.Response) and request.path.startswith("/api/"):
            response.headers["Cache-Control"] = "no-store"
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response

    # -- page ---------------------------------------------------------------------------------

    async def _index(self, request: web.Request) -> web.StreamResponse:
        response = web.FileResponse(STATIC / "index.html")
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; img-src 'self' data: https:; style-src 'self'; "
            "script-src 'self'; connect-src 'self'; frame-ancestors 'none'"
        )
        return response

    async def _art(self, request: web.Request) -> web.Response:
        return web.Response(
            text=cover_svg(request.query.get("url", "")),
            content_type="image/svg+xml",
            headers={"Cache-Control": "max-age=86400"},
        )

    # -- reading ------------------------------------------------------------------------------

    async def _sandbox(self, request: web.Request) -> web.Response:
        data = self.guild.to_json()
        data["discord_control"] = self.discord_control_url
        data["panel"] = self.panel_url
        return web.json_response(data)

    def _user(self, value: Any) -> SandboxUser:
        user = self._users.get(int(value))
        if user is None:
            raise ValueError("not a sandbox user")
        return user

    def _text_channel(self, value: Any) -> int:
        channel = int(value)
        if channel not in self._channels:
            raise ValueError("not a text channel of the sandbox guild")
        return channel

    async def _view(self, request: web.Request) -> web.Response:
        user = self._user(request.query["user"])
        channel = self._text_channel(request.query["channel"])
        messages, voice, commands = await asyncio.gather(
            self.discord.channel_messages(channel),
            self.discord.voice_states(self.guild.id),
            self.discord.commands(),
        )
        guild_commands = await self.discord.commands(self.guild.id)
        names = {str(u.id): u.name for u in self.guild.users}
        names[str(self.guild.bot_id)] = self.guild.bot_name
        return web.json_response(
            {
                "messages": [
                    shown(m) for m in messages if visible_to(m, user.id) and not m.get("deleted")
                ],
                "voice": [
                    {
                        "user_id": s["user_id"],
                        "channel_id": s["channel_id"],
                        "name": names.get(str(s["user_id"]), str(s["user_id"])),
                    }
                    for s in voice
                    if s.get("channel_id")
                ],
                "commands": [command_summary(c) for c in [*guild_commands, *commands]],
            }
        )

    async def _player(self, request: web.Request) -> web.Response:
        return web.json_response(await self.lavalink.player(self.guild.id))

    # -- acting -------------------------------------------------------------------------------

    async def _command(self, request: web.Request) -> web.Response:
        body = await _json(request)
        user = self._user(body["user"])
        created = await self.discord.invoke_command(
            guild_id=self.guild.id,
            channel_id=self._text_channel(body["channel"]),
            user_id=user.id,
            name=str(body["name"]),
            options=_options(body.get("options")),
            subcommand=_subcommand(body.get("subcommand")),
        )
        return web.json_response({"id": str(created["id"])})

    async def _autocomplete(self, request: web.Request) -> web.Response:
        body = await _json(request)
        user = self._user(body["user"])
        asked = await self.discord.invoke_autocomplete(
            guild_id=self.guild.id,
            channel_id=self._text_channel(body["channel"]),
            user_id=user.id,
            name=str(body["name"]),
            options=_options(body.get("options")) or {},
            focused=str(body["focused"]),
            subcommand=_subcommand(body.get("subcommand")),
        )
        record = await self.discord.interaction(asked["id"], min_events=1, wait=AUTOCOMPLETE_WAIT_S)
        response = record.get("initial_response") or {}
        choices = (response.get("data") or {}).get("choices") or []
        return web.json_response({"choices": choices})

    async def _click(self, request: web.Request) -> web.Response:
        body = await _json(request)
        user = self._user(body["user"])
        values = body.get("values")
        created = await self.discord.click_component(
            message_id=str(body["message_id"]),
            user_id=user.id,
            custom_id=str(body["custom_id"]),
            values=[str(v) for v in values] if isinstance(values, list) else None,
        )
        return web.json_response({"id": str(created["id"])})

    async def _move_voice(self, request: web.Request) -> web.Response:
        body = await _json(request)
        user = self._user(body["user"])
        channel = body.get("channel")
        target = None if channel in (None, "") else int(channel)
        if target is not None and target not in self._voice:
            raise ValueError("not a voice channel of the sandbox guild")
        await self.discord.move_voice(self.guild.id, user.id, target)
        return web.json_response({"channel": None if target is None else str(target)})

    # -- events -------------------------------------------------------------------------------

    async def _events(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        await response.prepare(request)
        queue: asyncio.Queue[bytes] = asyncio.Queue()
        tasks = [
            asyncio.create_task(self._forward_world(queue)),
            asyncio.create_task(self._watch_player(queue)),
        ]
        closing = asyncio.create_task(self._closing.wait())
        try:
            await response.write(b"retry: 1000\n\n")
            while True:
                getting = asyncio.create_task(queue.get())
                done, _ = await asyncio.wait(
                    {getting, closing}, return_when=asyncio.FIRST_COMPLETED
                )
                if getting not in done:
                    getting.cancel()
                    break
                await response.write(getting.result())
        except ConnectionResetError:
            pass  # the page went away
        finally:
            closing.cancel()
            for task in tasks:
                task.cancel()
            await asyncio.gather(closing, *tasks, return_exceptions=True)
        return response

    async def _forward_world(self, queue: asyncio.Queue[bytes]) -> None:
        """The Discord emulator's ``world`` events, as they come (reconnecting if cut)."""
        assert self._http is not None
        while True:
            try:
                async with self._http.get(f"{self.discord_control_url}/events") as upstream:
                    async for block in _sse_blocks(upstream.content):
                        if block.startswith(b"event: world"):
                            await queue.put(block + b"\n\n")
            except (aiohttp.ClientError, OSError) as error:
                _log.debug("sandbox event stream reconnecting", error=repr(error))
            await asyncio.sleep(1.0)

    async def _watch_player(self, queue: asyncio.Queue[bytes]) -> None:
        """A ``player`` event whenever the player changed beyond its clock (or every 5 s)."""
        last: str | None = None
        quiet = 0.0
        while True:
            try:
                player = await self.lavalink.player(self.guild.id)
            except Exception as error:  # the node restarting: try again next round
                _log.debug("sandbox player poll failed", error=repr(error))
                player = None
            key = json.dumps(player_signature(player), sort_keys=True)
            if key != last or quiet >= PLAYER_RESYNC_S:
                last, quiet = key, 0.0
                await queue.put(f"event: player\ndata: {json.dumps(player)}\n\n".encode())
            await asyncio.sleep(PLAYER_POLL_S)
            quiet += PLAYER_POLL_S


async def _sse_blocks(content: aiohttp.StreamReader) -> AsyncIterator[bytes]:
    buffer = b""
    async for chunk in content.iter_any():
        buffer += chunk
        while b"\n\n" in buffer:
            block, buffer = buffer.split(b"\n\n", 1)
            yield block


async def _json(request: web.Request) -> dict[str, Any]:
    data = await request.json()
    if not isinstance(data, dict):
        raise ValueError("the body must be a JSON object")
    return data


def _options(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ValueError("options must be an object of name: value")
    return {str(k): v for k, v in value.items()}


def _subcommand(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


def visible_to(message: dict[str, Any], user_id: int) -> bool:
    """Ephemeral messages are seen by the user whose interaction made them, and only by them."""
    if not int(message.get("flags") or 0) & EPHEMERAL:
        return True
    metadata = message.get("interaction_metadata") or {}
    return str((metadata.get("user") or {}).get("id")) == str(user_id)


def shown(message: dict[str, Any]) -> dict[str, Any]:
    """The parts of a message record the page renders (image URLs made local when fake)."""
    flags = int(message.get("flags") or 0)
    metadata = message.get("interaction_metadata") or {}
    return {
        "id": message["id"],
        "author": {
            "id": message["author"]["id"],
            "name": message["author"].get("global_name") or message["author"]["username"],
            "bot": bool(message["author"].get("bot")),
        },
        "content": message.get("content") or "",
        "embeds": [_local_images(e) for e in message.get("embeds") or []],
        "components": message.get("components") or [],
        "ephemeral": bool(flags & EPHEMERAL),
        "loading": bool(flags & LOADING),
        "edited": message.get("edited_timestamp") is not None,
        "timestamp": message.get("timestamp"),
        "for_user": (metadata.get("user") or {}).get("id"),
    }


def _local_images(embed: dict[str, Any]) -> dict[str, Any]:
    copy = dict(embed)
    for part in ("thumbnail", "image", "author", "footer"):
        item = copy.get(part)
        if isinstance(item, dict):
            item = dict(item)
            for key in ("url", "icon_url"):
                if isinstance(item.get(key), str) and _is_fake(item[key]):
                    item[key] = local_art_url(item[key])
            copy[part] = item
    return copy


def _is_fake(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    return host.endswith(".invalid")


def local_art_url(url: str) -> str:
    """The page server's own address of a fake artwork URL."""
    return f"/art?url={quote(url, safe='')}"


def command_summary(command: dict[str, Any]) -> dict[str, Any]:
    """Name, description and options (name, type, required, autocomplete, choices); a
    subcommand (type 1) carries its own options."""
    return {
        "name": command["name"],
        "description": command.get("description") or "",
        "options": [_option_summary(option) for option in command.get("options") or []],
    }


def _option_summary(option: dict[str, Any]) -> dict[str, Any]:
    summary = {
        "name": option["name"],
        "description": option.get("description") or "",
        "type": option.get("type"),
        "required": bool(option.get("required")),
        "autocomplete": bool(option.get("autocomplete")),
        "choices": option.get("choices") or [],
    }
    if option.get("type") == SUB_COMMAND:
        summary["options"] = [_option_summary(o) for o in option.get("options") or []]
    return summary


def player_signature(player: dict[str, Any] | None) -> dict[str, Any] | None:
    """What makes a player event worth sending: everything but its moving clock."""
    if player is None:
        return None
    track = player.get("track") or {}
    return {
        "track": (track.get("info") or {}).get("identifier"),
        "paused": player.get("paused"),
        "volume": player.get("volume"),
        "filters": player.get("filters"),
        "connected": (player.get("state") or {}).get("connected"),
        "channel": (player.get("voice") or {}).get("channelId"),
    }


def cover_svg(url: str) -> str:
    """A square cover drawn from ``url`` (two colours from its hash: each track its own)."""
    digest = hashlib.sha256(url.encode()).digest()
    hue_a, hue_b = digest[0] * 360 // 256, digest[1] * 360 // 256
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="256" height="256" viewBox="0 0 256 256">'
        '<defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1">'
        f'<stop offset="0" stop-color="hsl({hue_a},70%,55%)"/>'
        f'<stop offset="1" stop-color="hsl({hue_b},70%,35%)"/></linearGradient></defs>'
        '<rect width="256" height="256" fill="url(#g)"/>'
        '<circle cx="128" cy="112" r="56" fill="none" stroke="#fff" stroke-opacity=".5" '
        'stroke-width="10"/><circle cx="128" cy="112" r="10" fill="#fff" fill-opacity=".7"/>'
        '<path d="M112 196v-40l40-8v40" fill="none" stroke="#fff" stroke-opacity=".6" '
        'stroke-width="6"/></svg>'
    )


@contextlib.asynccontextmanager
async def running_page(page: SandboxPage) -> AsyncIterator[SandboxPage]:
    """``page`` started for the block, stopped afterwards."""
    await page.start()
    try:
        yield page
    finally:
        await page.stop()
