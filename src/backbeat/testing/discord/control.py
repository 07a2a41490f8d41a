"""The control API under ``/_control/``: script the world, read what the bot did, inject faults.

Every operation here is also a method of
:class:`~backbeat.testing.discord.control_client.ControlClient`. Errors come back as
``{"message", "code"}`` with Discord's status and code where one applies, else 400.
docs/emulators/discord.md lists the routes with their bodies.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from backbeat.observability.logging import get_logger
from backbeat.testing.discord.events import Events
from backbeat.testing.discord.faults import GATEWAY_FAULT_KINDS, HttpFault, HttpFaults
from backbeat.testing.discord.gateway import GatewayServer
from backbeat.testing.discord.interactions import InteractionService
from backbeat.testing.discord.ratelimits import Limit, RateLimitConfig, RateLimiter
from backbeat.testing.discord.rest import RestApi, error_response, json_response, no_content
from backbeat.testing.discord.voice import VoiceService
from backbeat.testing.discord.world import CHANNEL_TYPE_NAMES, JSON, Overwrite, World, WorldError

log = get_logger(__name__)

CONTROL_PREFIX = "/_control"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
MAX_WAIT = 60.0


def _id(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("an id must be a snowflake")
    return int(value)


def _optional_id(value: Any) -> int | None:
    return None if value is None else _id(value)


def _limit(data: Any) -> Limit:
    return Limit(int(data["limit"]), float(data["window"]))


async def _body(request: web.Request) -> JSON:
    if not request.can_read_body:
        return {}
    data = await request.json()
    if not isinstance(data, dict):
        raise ValueError("the body must be a JSON object")
    return data


class ControlApi:
    """Handlers of the control API."""

    def __init__(
        self,
        *,
        world: World,
        gateway: GatewayServer,
        events: Events,
        interactions: InteractionService,
        voice: VoiceService,
        limiter: RateLimiter,
        faults: HttpFaults,
        rest: RestApi,
    ) -> None:
        self.world = world
        self.gateway = gateway
        self.events = events
        self.interactions = interactions
        self.voice = voice
        self.limiter = limiter
        self.faults = faults
        self.rest = rest

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith(CONTROL_PREFIX + "/"):
            return await handler(request)
        try:
            return await handler(request)
        except web.HTTPException as exc:
            return error_response(exc.status, 0, exc.reason)
        except WorldError as exc:
            return error_response(exc.status, exc.code, exc.message)
        except (ValueError, KeyError, TypeError, json.JSONDecodeError) as exc:
            log.info("control request rejected", path=request.path, error=repr(exc))
            return error_response(400, 0, f"bad control request: {exc!r}")

    def add_routes(self, app: web.Application) -> None:
        c = CONTROL_PREFIX
        r = app.router
        r.add_get(c + "/state", self.state)
        r.add_post(c + "/users", self.create_user)
        r.add_post(c + "/guilds", self.create_guild)
        r.add_patch(c + "/guilds/{guild_id}", self.update_guild)
        r.add_post(c + "/guilds/{guild_id}/channels", self.create_channel)
        r.add_post(c + "/guilds/{guild_id}/roles", self.create_role)
        r.add_patch(c + "/guilds/{guild_id}/roles/{role_id}", self.update_role)
        r.add_put(c + "/guilds/{guild_id}/members/{user_id}", self.put_member)
        r.add_delete(c + "/guilds/{guild_id}/members/{user_id}", self.remove_member)
        r.add_post(c + "/guilds/{guild_id}/unavailable", self.guild_unavailable)
        r.add_post(c + "/guilds/{guild_id}/voice", self.move_voice)
        r.add_get(c + "/guilds/{guild_id}/voice", self.voice_states)
        r.add_put(c + "/channels/{channel_id}/overwrites/{target_id}", self.put_overwrite)
        r.add_post(c + "/channels/{channel_id}/messages", self.user_message)
        r.add_get(c + "/channels/{channel_id}/messages", self.channel_messages)
        r.add_get(c + "/messages/{message_id}", self.get_message)
        r.add_post(c + "/interactions/command", self.invoke_command)
        r.add_post(c + "/interactions/autocomplete", self.invoke_autocomplete)
        r.add_post(c + "/interactions/component", self.click_component)
        r.add_get(c + "/interactions/{interaction_id}", self.get_interaction)
        r.add_get(c + "/commands", self.get_commands)
        r.add_get(c + "/gateway/sessions", self.sessions)
        r.add_post(c + "/gateway/faults", self.gateway_fault)
        r.add_get(c + "/http/faults", self.get_http_faults)
        r.add_post(c + "/http/faults", self.add_http_fault)
        r.add_delete(c + "/http/faults", self.clear_http_faults)
        r.add_get(c + "/ratelimits", self.get_rate_limits)
        r.add_put(c + "/ratelimits", self.put_rate_limits)
        r.add_get(c + "/clock", self.get_clock)
        r.add_post(c + "/clock/advance", self.advance_clock)
        r.add_get(c + "/voice/credentials", self.voice_credentials)
        r.add_get(c + "/requests", self.requests)

    # ----- world ------------------------------------------------------------------------------
    async def state(self, request: web.Request) -> web.Response:
        world = self.world
        return json_response(
            {
                "bot": world.bot.to_json(),
                "application_id": str(world.application_id),
                "users": [u.to_json() for u in world.users.values()],
                "guilds": [world.guild_json(g, full=True) for g in world.guilds.values()],
            }
        )

    async def create_user(self, request: web.Request) -> web.Response:
        body = await _body(request)
        user = self.world.create_user(
            str(body["username"]),
            bot=bool(body.get("bot", False)),
            locale=str(body.get("locale") or "en-US"),
        )
        return json_response(user.to_json(), status=201)

    async def create_guild(self, request: web.Request) -> web.Response:
        body = await _body(request)
        shard = body.get("shard")
        guild = self.world.create_guild(
            str(body["name"]),
            owner_id=_optional_id(body.get("owner_id")),
            shard=(int(shard[0]), int(shard[1])) if shard is not None else None,
        )
        for user_id in body.get("members") or []:
            self.world.add_member(guild.id, _id(user_id))
        self.events.guild_created(guild)
        return json_response(self.world.guild_json(guild, full=True), status=201)

    async def update_guild(self, request: web.Request) -> web.Response:
        """What a server manager changes in the server settings (name, primary language)."""
        guild = self.world.guild(_id(request.match_info["guild_id"]))
        body = await _body(request)
        if "name" in body:
            guild.name = str(body["name"])
        if "preferred_locale" in body:
            guild.preferred_locale = str(body["preferred_locale"])
        self.world.touch()
        self.events.guild_updated(guild)
        return json_response(self.world.guild_json(guild, full=False))

    async def create_channel(self, request: web.Request) -> web.Response:
        guild = self.world.guild(_id(request.match_info["guild_id"]))
        body = await _body(request)
        kind = body.get("type", "text")
        channel_type = CHANNEL_TYPE_NAMES[kind] if isinstance(kind, str) else int(kind)
        channel = self.world.create_channel(
            guild.id,
            str(body["name"]),
            channel_type,
            user_limit=int(body.get("user_limit", 0)),
            parent_id=_optional_id(body.get("parent_id")),
        )
        self.events.channel_created(guild, channel.id)
        return json_response(channel.to_json(), status=201)

    async def create_role(self, request: web.Request) -> web.Response:
        guild = self.world.guild(_id(request.match_info["guild_id"]))
        body = await _body(request)
        role = self.world.create_role(guild.id, str(body["name"]), int(body.get("permissions", 0)))
        self.events.role_changed(guild, role.id, created=True)
        return json_response(role.to_json(), status=201)

    async def update_role(self, request: web.Request) -> web.Response:
        guild = self.world.guild(_id(request.match_info["guild_id"]))
        role = self.world.role(guild.id, _id(request.match_info["role_id"]))
        body = await _body(request)
        if "permissions" in body:
            role.permissions = int(body["permissions"])
        if "name" in body:
            role.name = str(body["name"])
        self.world.touch()
        self.events.role_changed(guild, role.id, created=False)
        return json_response(role.to_json())

    async def put_member(self, request: web.Request) -> web.Response:
        guild = self.world.guild(_id(request.match_info["guild_id"]))
        user_id = _id(request.match_info["user_id"])
        body = await _body(request)
        roles = [_id(r) for r in body.get("roles") or []]
        existing = guild.members.get(user_id)
        if existing is None:
            self.world.add_member(guild.id, user_id, roles=roles, nick=body.get("nick"))
            self.events.member_added(guild, user_id)
            status = 201
        else:
            for role_id in roles:
                self.world.role(guild.id, role_id)
            if "roles" in body:
                existing.roles = roles
            if "nick" in body:
                existing.nick = body["nick"]
            self.world.touch()
            self.events.member_updated(guild, user_id)
            status = 200
        return json_response(self.world.member_json(guild, guild.members[user_id]), status=status)

    async def remove_member(self, request: web.Request) -> web.Response:
        guild = self.world.guild(_id(request.match_info["guild_id"]))
        user_id = _id(request.match_info["user_id"])
        self.world.member(guild.id, user_id)
        self.voice.leave(guild, user_id)
        del guild.members[user_id]
        self.world.touch()
        self.events.member_removed(guild, user_id)
        if user_id == self.world.bot.id:
            # The bot was kicked: Discord sends GUILD_DELETE without ``unavailable``.
            self.events.guild_deleted(guild, unavailable=False)
            del self.world.guilds[guild.id]
        return no_content()

    async def guild_unavailable(self, request: web.Request) -> web.Response:
        """An outage: GUILD_DELETE with ``unavailable: true`` (the guild stays)."""
        guild = self.world.guild(_id(request.match_info["guild_id"]))
        self.events.guild_deleted(guild, unavailable=True)
        return no_content()

    async def move_voice(self, request: web.Request) -> web.Response:
        body = await _body(request)
        state = self.voice.move_user(
            _id(request.match_info["guild_id"]),
            _id(body["user_id"]),
            _optional_id(body.get("channel_id")),
        )
        return json_response(state)

    async def voice_states(self, request: web.Request) -> web.Response:
        guild = self.world.guild(_id(request.match_info["guild_id"]))
        return json_response(
            [self.world.voice_state_json(guild, s, uid) for uid, s in guild.voice_states.items()]
        )

    async def put_overwrite(self, request: web.Request) -> web.Response:
        channel = self.world.channel(_id(request.match_info["channel_id"]))
        target = _id(request.match_info["target_id"])
        body = await _body(request)
        overwrite = Overwrite(
            id=target,
            type=int(body.get("type", 0)),
            allow=int(body.get("allow", 0)),
            deny=int(body.get("deny", 0)),
        )
        channel.overwrites[target] = overwrite
        self.world.touch()
        return json_response(channel.to_json())

    async def user_message(self, request: web.Request) -> web.Response:
        channel = self.world.channel(_id(request.match_info["channel_id"]))
        body = await _body(request)
        user_id = _id(body["user_id"])
        self.world.member(channel.guild_id, user_id)
        message = self.world.create_message(channel.id, user_id, body)
        self.events.message_created(message)
        return json_response(self.world.message_record(message), status=201)

    async def channel_messages(self, request: web.Request) -> web.Response:
        channel_id = _id(request.match_info["channel_id"])
        messages = self.world.channel_messages(channel_id, include_deleted=True)
        return json_response([self.world.message_record(m) for m in messages])

    async def get_message(self, request: web.Request) -> web.Response:
        message_id = _id(request.match_info["message_id"])
        message = self.world.messages.get(message_id)
        if message is None:
            raise WorldError(404, 10008, "Unknown Message")
        return json_response(self.world.message_record(message))

    # ----- interactions ------------------------------------------------------------------------
    async def invoke_command(self, request: web.Request) -> web.Response:
        return await self._invoke(request, autocomplete=False)

    async def invoke_autocomplete(self, request: web.Request) -> web.Response:
        return await self._invoke(request, autocomplete=True)

    async def _invoke(self, request: web.Request, *, autocomplete: bool) -> web.Response:
        """A slash command, or its autocomplete request (the body names the ``focused`` option)."""
        body = await _body(request)
        interaction = self.interactions.invoke_command(
            guild_id=_id(body["guild_id"]),
            channel_id=_id(body["channel_id"]),
            user_id=_id(body["user_id"]),
            name=str(body["name"]),
            options=body.get("options"),
            subcommand=body.get("subcommand"),
            focused=str(body["focused"]) if autocomplete else None,
        )
        return json_response(self.interactions.record(interaction), status=201)

    async def click_component(self, request: web.Request) -> web.Response:
        body = await _body(request)
        interaction = self.interactions.click_component(
            message_id=_id(body["message_id"]),
            user_id=_id(body["user_id"]),
            custom_id=str(body["custom_id"]),
            component_type=(
                int(body["component_type"]) if body.get("component_type") is not None else None
            ),
            values=[str(v) for v in body.get("values") or []],
        )
        return json_response(self.interactions.record(interaction), status=201)

    async def get_interaction(self, request: web.Request) -> web.Response:
        """The interaction's record; ``?min_events=N&timeout=S`` waits for N responses."""
        interaction = self.world.interaction(_id(request.match_info["interaction_id"]))
        wanted = int(request.query.get("min_events", "0"))
        timeout = min(MAX_WAIT, float(request.query.get("timeout", "10")))
        if wanted:
            await self.world.wait_for(lambda: len(interaction.events) >= wanted, timeout)
        return json_response(self.interactions.record(interaction))

    async def get_commands(self, request: web.Request) -> web.Response:
        scope = _optional_id(request.query.get("guild_id"))
        commands = self.world.commands.get(scope, [])
        return json_response([c.to_json(self.world.application_id) for c in commands])

    # ----- gateway ----------------------------------------------------------------------------
    async def sessions(self, request: web.Request) -> web.Response:
        """Current shard sessions; ``?connected=N&timeout=S`` waits for N connected shards."""
        wanted = int(request.query.get("connected", "0"))
        timeout = min(MAX_WAIT, float(request.query.get("timeout", "10")))
        if wanted:
            await self.world.wait_for(
                lambda: (
                    sum(1 for s in self.gateway.sessions() if s.to_json()["connected"]) >= wanted
                ),
                timeout,
            )
        return json_response(
            {
                "sessions": [s.to_json() for s in self.gateway.sessions()],
                "identify_count": self.gateway.identify_count,
                "identify_refused": self.gateway.identify_refused,
                "heartbeat_timeouts": self.gateway.heartbeat_timeouts,
            }
        )

    async def gateway_fault(self, request: web.Request) -> web.Response:
        body = await _body(request)
        kind = str(body["kind"])
        if kind not in GATEWAY_FAULT_KINDS:
            raise ValueError(f"unknown gateway fault {kind!r}")
        shard_id = None if body.get("shard_id") is None else int(body["shard_id"])
        affected = 0
        if kind == "reconnect":
            affected = self.gateway.send_reconnect(shard_id)
        elif kind == "invalid_session":
            affected = self.gateway.send_invalid_session(
                shard_id, resumable=bool(body.get("resumable", False))
            )
        elif kind in ("stop_heartbeat_acks", "resume_heartbeat_acks"):
            self.gateway.set_heartbeat_acks(shard_id, enabled=kind == "resume_heartbeat_acks")
            affected = len(self.gateway._targets(shard_id))
        else:
            code = int(body.get("code", 4000))
            if not 1000 <= code <= 4999:
                raise ValueError("a close code is between 1000 and 4999")
            affected = self.gateway.close_shard(shard_id, code)
        return json_response({"kind": kind, "affected": affected})

    # ----- HTTP faults and rate limits ----------------------------------------------------------
    async def get_http_faults(self, request: web.Request) -> web.Response:
        return json_response([f.to_json() for f in self.faults.pending()])

    async def add_http_fault(self, request: web.Request) -> web.Response:
        body = await _body(request)
        fault = HttpFault(
            kind=body["kind"],
            count=int(body.get("count", 1)),
            route=body.get("route"),
            status=int(body.get("status", 500)),
            retry_after=float(body.get("retry_after", 0.05)),
            is_global=bool(body.get("global", False)),
        )
        self.faults.add(fault)
        return json_response(fault.to_json(), status=201)

    async def clear_http_faults(self, request: web.Request) -> web.Response:
        self.faults.clear()
        return no_content()

    async def get_rate_limits(self, request: web.Request) -> web.Response:
        return json_response(self.limiter.config.to_json())

    async def put_rate_limits(self, request: web.Request) -> web.Response:
        body = await _body(request)
        if body.get("preset") == "discord":
            config = RateLimitConfig.discord_like()
        else:
            default = RateLimitConfig()
            config = RateLimitConfig(
                global_limit=(_limit(body["global"]) if body.get("global") else None)
                if "global" in body
                else default.global_limit,
                default=_limit(body["default"]) if body.get("default") else default.default,
                routes={str(k): _limit(v) for k, v in (body.get("routes") or {}).items()},
            )
        self.limiter.configure(config)
        return json_response(config.to_json())

    # ----- clock, voice, request log ----------------------------------------------------------
    async def get_clock(self, request: web.Request) -> web.Response:
        clock = self.world.clock
        return json_response({"now": clock.now(), "offset": clock.offset})

    async def advance_clock(self, request: web.Request) -> web.Response:
        body = await _body(request)
        clock = self.world.clock
        clock.advance(float(body["seconds"]))
        self.world.touch()
        return json_response({"now": clock.now(), "offset": clock.offset})

    async def voice_credentials(self, request: web.Request) -> web.Response:
        return json_response([c.to_json() for c in self.voice.registry.all()])

    async def requests(self, request: web.Request) -> web.Response:
        return json_response(list(self.rest.requests))
