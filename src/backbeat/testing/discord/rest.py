"""The REST API under ``/api/v10``: what discord.py calls, with Discord's answers.

Every answer has exactly ``Content-Type: application/json`` (discord.py parses JSON only
then), errors are ``{"message", "code"}`` bodies, and every API answer carries rate-limit
headers. A middleware does authentication (``Authorization: Bot <token>``; webhook and
interaction-callback routes need none, as on Discord), injected faults, rate limits and the
request log, in that order.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import BodyPartReader, web

from backbeat.observability.logging import get_logger
from backbeat.testing.discord.events import Events
from backbeat.testing.discord.faults import HttpFaults
from backbeat.testing.discord.gateway import GatewayServer
from backbeat.testing.discord.interactions import InteractionService
from backbeat.testing.discord.oauth import OAUTH_USER, OAuthService
from backbeat.testing.discord.ratelimits import RateLimiter, too_many_requests_headers
from backbeat.testing.discord.world import (
    EPHEMERAL,
    GUILD_TEXT,
    GUILD_VOICE,
    JSON,
    MANAGE_MESSAGES,
    SEND_MESSAGES,
    VIEW_CHANNEL,
    Channel,
    World,
    WorldError,
)

log = get_logger(__name__)

API_PREFIX = "/api/v10"
PUBLIC_PREFIXES = ("/webhooks/", "/interactions/", "/oauth2/token")
MAJOR_PARAMETERS = ("channel_id", "guild_id", "interaction_id", "token")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def json_response(
    data: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """A JSON answer with exactly ``Content-Type: application/json`` (no charset)."""
    response = web.Response(status=status, body=json.dumps(data).encode())
    response.headers["Content-Type"] = "application/json"
    if headers:
        response.headers.update(headers)
    return response


def error_response(status: int, code: int, message: str) -> web.Response:
    return json_response({"message": message, "code": code}, status=status)


def no_content() -> web.Response:
    return web.Response(status=204)


async def read_payload(request: web.Request) -> JSON:
    """The JSON body, or ``payload_json`` (+ file names as attachments) of a multipart body."""
    if request.content_type.startswith("multipart/"):
        payload: JSON = {}
        files: list[JSON] = []
        reader = await request.multipart()
        while True:
            part = await reader.next()
            if part is None:
                break
            if not isinstance(part, BodyPartReader):
                continue
            if part.name == "payload_json":
                payload = json.loads(await part.text())
            else:
                body = await part.read()
                filename = getattr(part, "filename", None) or "file"
                files.append({"id": str(len(files)), "filename": filename, "size": len(body)})
        if files:
            payload["attachments"] = [
                {**f, "url": f"https://cdn.example/{f['filename']}", "proxy_url": ""} for f in files
            ]
        return payload
    if not request.can_read_body:
        return {}
    try:
        data = await request.json()
    except ValueError:
        raise WorldError(400, 50109, "The request body contains invalid JSON.") from None
    if not isinstance(data, dict):
        raise WorldError(400, 50035, "Invalid Form Body")
    return data


def _int(request: web.Request, name: str, kind: str, code: int) -> int:
    try:
        return int(request.match_info[name])
    except ValueError:
        raise WorldError(404, code, f"Unknown {kind}") from None


class RestApi:
    """Route handlers plus the middleware around them."""

    def __init__(
        self,
        *,
        world: World,
        gateway: GatewayServer,
        events: Events,
        interactions: InteractionService,
        limiter: RateLimiter,
        faults: HttpFaults,
        token: str,
    ) -> None:
        self.world = world
        self.gateway = gateway
        self.events = events
        self.interactions = interactions
        self.limiter = limiter
        self.faults = faults
        self.token = token
        self.shard_count = 1
        self.requests: deque[JSON] = deque(maxlen=2_000)
        self.oauth: OAuthService | None = None
        """Accepts OAuth2 bearer tokens on the routes it serves (``oauth.py``)."""

    # ----- middleware ------------------------------------------------------------------------
    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith(API_PREFIX + "/"):
            return await handler(request)
        resource = request.match_info.route.resource
        if request.match_info.http_exception is not None or resource is None:
            status = (
                request.match_info.http_exception.status
                if request.match_info.http_exception
                else 404
            )
            return error_response(status, 0, f"{status}: Not Found")
        template = resource.canonical[len(API_PREFIX) :]
        route_key = f"{request.method} {template}"
        public = template.startswith(PUBLIC_PREFIXES)
        response = await self._guarded(request, handler, route_key, public)
        response.headers.setdefault("Via", "1.1 google")
        self.requests.append(
            {
                "method": request.method,
                "route": route_key,
                "path": request.path,
                "status": response.status,
                "at": self.world.clock.now(),
            }
        )
        return response

    async def _guarded(
        self, request: web.Request, handler: Handler, route_key: str, public: bool
    ) -> web.StreamResponse:
        if not public and not self._authorised(request, route_key):
            return error_response(401, 0, "401: Unauthorized")
        fault = self.faults.take(route_key)
        if fault is not None:
            if fault.kind == "429":
                scope = "global" if fault.is_global else "user"
                body = {
                    "message": "You are being rate limited.",
                    "retry_after": fault.retry_after,
                    "global": fault.is_global,
                }
                headers = too_many_requests_headers(
                    fault.retry_after, is_global=fault.is_global, scope=scope
                )
                return json_response(body, status=429, headers=headers)
            return error_response(fault.status, 0, f"{fault.status}: Emulated server error")
        major = "+".join(request.match_info[k] for k in MAJOR_PARAMETERS if k in request.match_info)
        decision = self.limiter.check(route_key, major, exempt_from_global=public)
        if not decision.allowed:
            body = {
                "message": "You are being rate limited.",
                "retry_after": decision.retry_after,
                "global": decision.is_global,
            }
            return json_response(body, status=429, headers=decision.headers)
        try:
            response = await handler(request)
        except WorldError as exc:
            response = error_response(exc.status, exc.code, exc.message)
        except (ValueError, TypeError, KeyError) as exc:
            log.info("emulated REST request rejected", route=route_key, error=str(exc))
            response = error_response(400, 50035, "Invalid Form Body")
        except Exception:
            log.exception("emulated REST handler failed", route=route_key)
            response = error_response(500, 0, "500: Internal Server Error")
        response.headers.update(decision.headers)
        return response

    def _authorised(self, request: web.Request, route_key: str) -> bool:
        """The bot's token, or an OAuth2 bearer token on a route that accepts one."""
        if request.headers.get("Authorization") == f"Bot {self.token}":
            return True
        return self.oauth is not None and self.oauth.accept_bearer(request, route_key)

    # ----- routes ----------------------------------------------------------------------------
    def add_routes(self, app: web.Application) -> None:
        p = API_PREFIX
        app.router.add_get(p + "/users/@me", self.get_me)
        app.router.add_get(p + "/users/@me/guilds", self.get_my_guilds)
        app.router.add_get(p + "/users/{user_id}", self.get_user)
        app.router.add_get(p + "/oauth2/applications/@me", self.get_application)
        app.router.add_get(p + "/applications/@me", self.get_application)
        app.router.add_get(p + "/gateway", self.get_gateway)
        app.router.add_get(p + "/gateway/bot", self.get_gateway_bot)
        app.router.add_get(p + "/applications/{application_id}/commands", self.get_commands)
        app.router.add_put(p + "/applications/{application_id}/commands", self.put_commands)
        guild_commands = p + "/applications/{application_id}/guilds/{guild_id}/commands"
        app.router.add_get(guild_commands, self.get_commands)
        app.router.add_put(guild_commands, self.put_commands)
        app.router.add_post(p + "/interactions/{interaction_id}/{token}/callback", self.callback)
        app.router.add_post(p + "/webhooks/{application_id}/{token}", self.followup)
        webhook_message = p + "/webhooks/{application_id}/{token}/messages/{message_id}"
        app.router.add_get(webhook_message, self.get_webhook_message)
        app.router.add_patch(webhook_message, self.edit_webhook_message)
        app.router.add_delete(webhook_message, self.delete_webhook_message)
        app.router.add_get(p + "/channels/{channel_id}", self.get_channel)
        app.router.add_get(p + "/channels/{channel_id}/messages", self.get_messages)
        app.router.add_post(p + "/channels/{channel_id}/messages", self.create_message)
        app.router.add_post(p + "/channels/{channel_id}/typing", self.typing)
        message = p + "/channels/{channel_id}/messages/{message_id}"
        app.router.add_get(message, self.get_message)
        app.router.add_patch(message, self.edit_message)
        app.router.add_delete(message, self.delete_message)
        app.router.add_get(p + "/guilds/{guild_id}", self.get_guild)
        app.router.add_get(p + "/guilds/{guild_id}/channels", self.get_guild_channels)
        app.router.add_get(p + "/guilds/{guild_id}/roles", self.get_guild_roles)
        app.router.add_get(p + "/guilds/{guild_id}/members", self.get_members)
        app.router.add_get(p + "/guilds/{guild_id}/members/{user_id}", self.get_member)

    # users, application, gateway
    async def get_me(self, request: web.Request) -> web.Response:
        if self.oauth is not None and OAUTH_USER in request:
            return json_response(self.oauth.me(request[OAUTH_USER]))
        data = self.world.bot.to_json()
        data.update(verified=True, mfa_enabled=False, flags=0, email=None, locale="en-US")
        return json_response(data)

    async def get_user(self, request: web.Request) -> web.Response:
        return json_response(self.world.user(_int(request, "user_id", "User", 10013)).to_json())

    async def get_my_guilds(self, request: web.Request) -> web.Response:
        if self.oauth is not None and OAUTH_USER in request:
            return json_response(self.oauth.guilds(request[OAUTH_USER]))
        guilds = sorted(self.world.guilds.values(), key=lambda g: g.id)
        after = int(request.query.get("after", "0") or 0)
        limit = min(200, int(request.query.get("limit", "200") or 200))
        result: list[JSON] = [
            {
                "id": str(g.id),
                "name": g.name,
                "icon": None,
                "banner": None,
                "owner": g.owner_id == self.world.bot.id,
                "permissions": str(self.world.permissions_for(g.id, self.world.bot.id)),
                "features": [],
            }
            for g in guilds
            if g.id > after and self.world.bot.id in g.members
        ]
        return json_response(result[:limit])

    async def get_application(self, request: web.Request) -> web.Response:
        bot = self.world.bot
        return json_response(
            {
                "id": str(self.world.application_id),
                "name": bot.username,
                "icon": None,
                "description": "Emulated application",
                "rpc_origins": [],
                "bot_public": True,
                "bot_require_code_grant": False,
                "owner": {"id": "1", "username": "owner", "discriminator": "0", "avatar": None},
                "verify_key": "0" * 64,
                "team": None,
                "flags": 0,
                "summary": "",
                "bot": bot.to_json(),
                "interactions_endpoint_url": None,
                "redirect_uris": [],
                "tags": [],
            }
        )

    async def get_gateway(self, request: web.Request) -> web.Response:
        return json_response({"url": self.gateway.url})

    async def get_gateway_bot(self, request: web.Request) -> web.Response:
        options = self.gateway.options
        return json_response(
            {
                "url": self.gateway.url,
                "shards": self.shard_count,
                "session_start_limit": {
                    "total": 1000,
                    "remaining": max(0, 1000 - self.gateway.identify_count),
                    "reset_after": 86_400_000,
                    "max_concurrency": options.max_concurrency,
                },
            }
        )

    # application commands
    def _scope(self, request: web.Request) -> int | None:
        if _int(request, "application_id", "Application", 10002) != self.world.application_id:
            raise WorldError(403, 50001, "Missing Access")
        if "guild_id" in request.match_info:
            guild_id = _int(request, "guild_id", "Guild", 10004)
            self.world.guild(guild_id)
            return guild_id
        return None

    async def get_commands(self, request: web.Request) -> web.Response:
        scope = self._scope(request)
        commands = self.world.commands.get(scope, [])
        return json_response([c.to_json(self.world.application_id) for c in commands])

    async def put_commands(self, request: web.Request) -> web.Response:
        scope = self._scope(request)
        try:
            bodies = await request.json()
        except ValueError:
            raise WorldError(400, 50109, "The request body contains invalid JSON.") from None
        if not isinstance(bodies, list):
            raise WorldError(400, 50035, "Invalid Form Body")
        commands = self.world.overwrite_commands(scope, bodies)
        return json_response([c.to_json(self.world.application_id) for c in commands])

    # interactions and webhooks
    async def callback(self, request: web.Request) -> web.Response:
        interaction_id = _int(request, "interaction_id", "interaction", 10062)
        body = await read_payload(request)
        result = self.interactions.callback(interaction_id, request.match_info["token"], body)
        if request.query.get("with_response", "").lower() in ("1", "true"):
            return json_response(result)
        return no_content()

    def _webhook_interaction(self, request: web.Request) -> Any:
        application_id = _int(request, "application_id", "Webhook", 10015)
        return self.interactions.webhook_interaction(application_id, request.match_info["token"])

    async def followup(self, request: web.Request) -> web.Response:
        interaction = self._webhook_interaction(request)
        payload = await read_payload(request)
        if not any(payload.get(k) for k in ("content", "embeds", "components", "attachments")):
            raise WorldError(400, 50006, "Cannot send an empty message")
        message = self.interactions.followup(interaction, payload)
        if request.query.get("wait", "").lower() in ("1", "true"):
            return json_response(self.world.message_json(message))
        return no_content()

    async def get_webhook_message(self, request: web.Request) -> web.Response:
        interaction = self._webhook_interaction(request)
        message = self.interactions.get_message(interaction, request.match_info["message_id"])
        return json_response(self.world.message_json(message))

    async def edit_webhook_message(self, request: web.Request) -> web.Response:
        interaction = self._webhook_interaction(request)
        payload = await read_payload(request)
        message = self.interactions.edit_message(
            interaction, request.match_info["message_id"], payload
        )
        return json_response(self.world.message_json(message))

    async def delete_webhook_message(self, request: web.Request) -> web.Response:
        interaction = self._webhook_interaction(request)
        self.interactions.delete_message(interaction, request.match_info["message_id"])
        return no_content()

    # channels and messages
    def _channel(self, request: web.Request, needed: int = VIEW_CHANNEL) -> Channel:
        channel = self.world.channel(_int(request, "channel_id", "Channel", 10003))
        perms = self.world.permissions_for(channel.guild_id, self.world.bot.id, channel.id)
        if not perms & VIEW_CHANNEL:
            raise WorldError(403, 50001, "Missing Access")
        if perms & needed != needed:
            raise WorldError(403, 50013, "Missing Permissions")
        return channel

    async def get_channel(self, request: web.Request) -> web.Response:
        return json_response(self._channel(request).to_json())

    async def get_messages(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        messages = [m for m in self.world.channel_messages(channel.id) if not m.flags & EPHEMERAL]
        limit = max(1, min(100, int(request.query.get("limit", "50") or 50)))
        if "after" in request.query:
            after = int(request.query["after"])
            chosen = [m for m in messages if m.id > after][:limit]
            chosen.reverse()
        else:
            before = int(request.query.get("before", "0") or 0)
            chosen = [m for m in messages if not before or m.id < before][-limit:]
            chosen.reverse()
        return json_response([self.world.message_json(m) for m in chosen])

    async def create_message(self, request: web.Request) -> web.Response:
        channel = self._channel(request, VIEW_CHANNEL | SEND_MESSAGES)
        if channel.type not in (GUILD_TEXT, GUILD_VOICE):
            raise WorldError(400, 50008, "Cannot send messages in a non-text channel")
        payload = await read_payload(request)
        if not (
            payload.get("content")
            or payload.get("embeds")
            or payload.get("components")
            or payload.get("attachments")
        ):
            raise WorldError(400, 50006, "Cannot send an empty message")
        payload["flags"] = int(payload.get("flags") or 0) & ~EPHEMERAL
        message = self.world.create_message(channel.id, self.world.bot.id, payload)
        self.events.message_created(message)
        return json_response(self.world.message_json(message))

    async def typing(self, request: web.Request) -> web.Response:
        self._channel(request, VIEW_CHANNEL | SEND_MESSAGES)
        return no_content()

    async def get_message(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        message = self.world.message(_int(request, "message_id", "Message", 10008), channel.id)
        if message.flags & EPHEMERAL:
            raise WorldError(404, 10008, "Unknown Message")
        return json_response(self.world.message_json(message))

    async def edit_message(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        message = self.world.message(_int(request, "message_id", "Message", 10008), channel.id)
        if message.author_id != self.world.bot.id:
            raise WorldError(403, 50005, "Cannot edit a message authored by another user")
        payload = await read_payload(request)
        self.world.edit_message(message, payload)
        self.events.message_updated(message)
        return json_response(self.world.message_json(message))

    async def delete_message(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        message = self.world.message(_int(request, "message_id", "Message", 10008), channel.id)
        if message.author_id != self.world.bot.id:
            perms = self.world.permissions_for(channel.guild_id, self.world.bot.id, channel.id)
            if not perms & MANAGE_MESSAGES:
                raise WorldError(403, 50013, "Missing Permissions")
        self.world.delete_message(message)
        self.events.message_deleted(message)
        return no_content()

    # guilds
    async def get_guild(self, request: web.Request) -> web.Response:
        guild = self.world.guild(_int(request, "guild_id", "Guild", 10004))
        data = self.world.guild_json(guild, full=False)
        if request.query.get("with_counts", "").lower() in ("1", "true"):
            data.update(approximate_member_count=len(guild.members), approximate_presence_count=0)
        return json_response(data)

    async def get_guild_channels(self, request: web.Request) -> web.Response:
        guild = self.world.guild(_int(request, "guild_id", "Guild", 10004))
        return json_response([c.to_json() for c in guild.channels.values()])

    async def get_guild_roles(self, request: web.Request) -> web.Response:
        guild = self.world.guild(_int(request, "guild_id", "Guild", 10004))
        return json_response([r.to_json() for r in guild.roles.values()])

    async def get_members(self, request: web.Request) -> web.Response:
        guild = self.world.guild(_int(request, "guild_id", "Guild", 10004))
        limit = max(1, min(1000, int(request.query.get("limit", "1") or 1)))
        after = int(request.query.get("after", "0") or 0)
        members = [m for uid, m in sorted(guild.members.items()) if uid > after][:limit]
        return json_response([self.world.member_json(guild, m) for m in members])

    async def get_member(self, request: web.Request) -> web.Response:
        guild = self.world.guild(_int(request, "guild_id", "Guild", 10004))
        member = self.world.member(guild.id, _int(request, "user_id", "Member", 10007))
        return json_response(self.world.member_json(guild, member))
