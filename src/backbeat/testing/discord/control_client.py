"""Python client of the Discord emulator's control API (``/_control/``).

Each method is one control route; results are the JSON the route returns. Ids may be given
as ints or strings. Errors raise :class:`ControlError` with the emulator's message and code.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

import aiohttp

JSON = dict[str, Any]


class ControlError(Exception):
    """The control API refused a request."""

    def __init__(self, status: int, body: Any) -> None:
        message = body.get("message") if isinstance(body, dict) else str(body)
        super().__init__(f"{status}: {message}")
        self.status = status
        self.code = body.get("code") if isinstance(body, dict) else None
        self.body = body


class ControlClient:
    """Async client; use as ``async with ControlClient(url) as control:`` or call close()."""

    def __init__(self, base_url: str, session: aiohttp.ClientSession | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._session = session
        self._owns_session = session is None

    async def __aenter__(self) -> ControlClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None and self._owns_session:
            await self._session.close()
        self._session = None

    async def _request(
        self, method: str, path: str, body: Any = None, params: dict[str, str] | None = None
    ) -> Any:
        if self._session is None:
            # Bounded: a wedged emulator fails the caller instead of stalling it.
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))
            self._owns_session = True
        async with self._session.request(
            method, self.base_url + path, json=body, params=params
        ) as response:
            data = await response.json(content_type=None) if response.status != 204 else None
            if response.status >= 400:
                raise ControlError(response.status, data)
            return data

    # OAuth2 (oauth.py)
    async def oauth(self) -> JSON:
        """``{"client_id", "client_secret", "redirect_uris"}`` of the emulated application."""
        result: JSON = await self._request("GET", "/oauth2")
        return result

    async def register_redirect_uri(self, uri: str) -> JSON:
        """Allow ``uri`` as an OAuth2 redirect URI."""
        result: JSON = await self._request("POST", "/oauth2/redirect-uris", {"uri": uri})
        return result

    # world
    async def state(self) -> JSON:
        result: JSON = await self._request("GET", "/state")
        return result

    async def create_user(self, username: str, *, bot: bool = False, locale: str = "en-US") -> JSON:
        body = {"username": username, "bot": bot, "locale": locale}
        result: JSON = await self._request("POST", "/users", body)
        return result

    async def create_guild(
        self,
        name: str,
        *,
        shard: tuple[int, int] | None = None,
        owner_id: int | None = None,
        members: list[int] | None = None,
    ) -> JSON:
        body: JSON = {"name": name, "members": [str(m) for m in members or []]}
        if shard is not None:
            body["shard"] = list(shard)
        if owner_id is not None:
            body["owner_id"] = str(owner_id)
        result: JSON = await self._request("POST", "/guilds", body)
        return result

    async def update_guild(
        self, guild_id: int | str, *, name: str | None = None, preferred_locale: str | None = None
    ) -> JSON:
        """Change the guild as its server settings would (GUILD_UPDATE to its shard)."""
        body: JSON = {}
        if name is not None:
            body["name"] = name
        if preferred_locale is not None:
            body["preferred_locale"] = preferred_locale
        result: JSON = await self._request("PATCH", f"/guilds/{guild_id}", body)
        return result

    async def create_channel(
        self,
        guild_id: int | str,
        name: str,
        channel_type: str | int = "text",
        *,
        user_limit: int = 0,
    ) -> JSON:
        body = {"name": name, "type": channel_type, "user_limit": user_limit}
        result: JSON = await self._request("POST", f"/guilds/{guild_id}/channels", body)
        return result

    async def create_role(self, guild_id: int | str, name: str, permissions: int = 0) -> JSON:
        body = {"name": name, "permissions": permissions}
        result: JSON = await self._request("POST", f"/guilds/{guild_id}/roles", body)
        return result

    async def update_role(
        self, guild_id: int | str, role_id: int | str, *, permissions: int | None = None
    ) -> JSON:
        body: JSON = {} if permissions is None else {"permissions": permissions}
        result: JSON = await self._request("PATCH", f"/guilds/{guild_id}/roles/{role_id}", body)
        return result

    async def set_overwrite(
        self,
        channel_id: int | str,
        target_id: int | str,
        *,
        target_type: int = 0,
        allow: int = 0,
        deny: int = 0,
    ) -> JSON:
        body = {"type": target_type, "allow": allow, "deny": deny}
        path = f"/channels/{channel_id}/overwrites/{target_id}"
        result: JSON = await self._request("PUT", path, body)
        return result

    async def put_member(
        self,
        guild_id: int | str,
        user_id: int | str,
        *,
        roles: list[int] | None = None,
        nick: str | None = None,
    ) -> JSON:
        body: JSON = {}
        if roles is not None:
            body["roles"] = [str(r) for r in roles]
        if nick is not None:
            body["nick"] = nick
        result: JSON = await self._request("PUT", f"/guilds/{guild_id}/members/{user_id}", body)
        return result

    async def remove_member(self, guild_id: int | str, user_id: int | str) -> None:
        await self._request("DELETE", f"/guilds/{guild_id}/members/{user_id}")

    async def guild_unavailable(self, guild_id: int | str) -> None:
        """An outage of the guild: GUILD_DELETE with ``unavailable: true``."""
        await self._request("POST", f"/guilds/{guild_id}/unavailable")

    async def move_voice(
        self, guild_id: int | str, user_id: int | str, channel_id: int | str | None
    ) -> JSON:
        """A user joins or moves to ``channel_id``; ``None`` leaves voice."""
        body = {
            "user_id": str(user_id),
            "channel_id": None if channel_id is None else str(channel_id),
        }
        result: JSON = await self._request("POST", f"/guilds/{guild_id}/voice", body)
        return result

    async def voice_states(self, guild_id: int | str) -> list[JSON]:
        result: list[JSON] = await self._request("GET", f"/guilds/{guild_id}/voice")
        return result

    async def post_message(
        self,
        channel_id: int | str,
        user_id: int | str,
        content: str,
        *,
        embeds: list[JSON] | None = None,
        components: list[JSON] | None = None,
    ) -> JSON:
        """A user posts a message (MESSAGE_CREATE), optionally with embeds and components."""
        body: JSON = {"user_id": str(user_id), "content": content}
        if embeds is not None:
            body["embeds"] = embeds
        if components is not None:
            body["components"] = components
        result: JSON = await self._request("POST", f"/channels/{channel_id}/messages", body)
        return result

    async def channel_messages(self, channel_id: int | str) -> list[JSON]:
        """Every message of a channel, oldest first, with ``history`` and ``deleted``."""
        result: list[JSON] = await self._request("GET", f"/channels/{channel_id}/messages")
        return result

    async def message(self, message_id: int | str) -> JSON:
        result: JSON = await self._request("GET", f"/messages/{message_id}")
        return result

    # interactions
    async def invoke_command(
        self,
        *,
        guild_id: int | str,
        channel_id: int | str,
        user_id: int | str,
        name: str,
        options: dict[str, Any] | list[JSON] | None = None,
        subcommand: str | None = None,
    ) -> JSON:
        body = {
            "guild_id": str(guild_id),
            "channel_id": str(channel_id),
            "user_id": str(user_id),
            "name": name,
            "options": options,
            "subcommand": subcommand,
        }
        result: JSON = await self._request("POST", "/interactions/command", body)
        return result

    async def invoke_autocomplete(
        self,
        *,
        guild_id: int | str,
        channel_id: int | str,
        user_id: int | str,
        name: str,
        options: dict[str, Any],
        focused: str,
        subcommand: str | None = None,
    ) -> JSON:
        body = {
            "guild_id": str(guild_id),
            "channel_id": str(channel_id),
            "user_id": str(user_id),
            "name": name,
            "options": options,
            "focused": focused,
            "subcommand": subcommand,
        }
        result: JSON = await self._request("POST", "/interactions/autocomplete", body)
        return result

    async def click_component(
        self,
        *,
        message_id: int | str,
        user_id: int | str,
        custom_id: str,
        component_type: int | None = None,
        values: list[str] | None = None,
    ) -> JSON:
        """A user clicks a button or picks ``values`` in a select (type: the component's own)."""
        body: JSON = {
            "message_id": str(message_id),
            "user_id": str(user_id),
            "custom_id": custom_id,
            "values": values or [],
        }
        if component_type is not None:
            body["component_type"] = component_type
        result: JSON = await self._request("POST", "/interactions/component", body)
        return result

    async def interaction(
        self, interaction_id: int | str, *, min_events: int = 0, wait: float = 10.0
    ) -> JSON:
        """An interaction's record; waits (up to ``wait`` seconds) for ``min_events`` responses."""
        params = {"min_events": str(min_events), "timeout": str(wait)}
        result: JSON = await self._request("GET", f"/interactions/{interaction_id}", params=params)
        return result

    async def commands(self, guild_id: int | str | None = None) -> list[JSON]:
        params = {} if guild_id is None else {"guild_id": str(guild_id)}
        result: list[JSON] = await self._request("GET", "/commands", params=params)
        return result

    # gateway
    async def sessions(self, *, connected: int = 0, wait: float = 10.0) -> JSON:
        """Shard sessions; waits (up to ``wait`` s) until ``connected`` shards are connected."""
        params = {"connected": str(connected), "timeout": str(wait)}
        result: JSON = await self._request("GET", "/gateway/sessions", params=params)
        return result

    async def gateway_fault(
        self,
        kind: str,
        *,
        shard_id: int | None = None,
        resumable: bool = False,
        code: int = 4000,
    ) -> JSON:
        """``reconnect`` (op 7), ``invalid_session`` (op 9), ``stop_heartbeat_acks``,
        ``resume_heartbeat_acks`` or ``close`` (with ``code``); ``shard_id=None``: all shards."""
        body = {"kind": kind, "shard_id": shard_id, "resumable": resumable, "code": code}
        result: JSON = await self._request("POST", "/gateway/faults", body)
        return result

    # HTTP faults and rate limits
    async def http_fault(
        self,
        kind: str,
        *,
        count: int = 1,
        route: str | None = None,
        status: int = 500,
        retry_after: float = 0.05,
        is_global: bool = False,
    ) -> JSON:
        """Answer the next ``count`` requests on ``route`` with a 429 (``kind="429"``) or a
        5xx (``kind="5xx"``, ``status``). ``route`` is a route key such as
        ``"POST /channels/{channel_id}/messages"``; ``None`` matches any API route."""
        body = {
            "kind": kind,
            "count": count,
            "route": route,
            "status": status,
            "retry_after": retry_after,
            "global": is_global,
        }
        result: JSON = await self._request("POST", "/http/faults", body)
        return result

    async def http_faults(self) -> list[JSON]:
        result: list[JSON] = await self._request("GET", "/http/faults")
        return result

    async def clear_http_faults(self) -> None:
        await self._request("DELETE", "/http/faults")

    async def set_rate_limits(self, config: JSON) -> JSON:
        """``{"global": {"limit", "window"}|null, "default": {…}, "routes": {key: {…}}}`` or
        ``{"preset": "discord"}``."""
        result: JSON = await self._request("PUT", "/ratelimits", config)
        return result

    async def rate_limits(self) -> JSON:
        result: JSON = await self._request("GET", "/ratelimits")
        return result

    # clock, voice, request log
    async def clock(self) -> JSON:
        result: JSON = await self._request("GET", "/clock")
        return result

    async def advance_clock(self, seconds: float) -> JSON:
        result: JSON = await self._request("POST", "/clock/advance", {"seconds": seconds})
        return result

    async def voice_credentials(self) -> list[JSON]:
        result: list[JSON] = await self._request("GET", "/voice/credentials")
        return result

    async def requests(self) -> list[JSON]:
        """The recent REST requests: method, route, path, status, emulator time."""
        result: list[JSON] = await self._request("GET", "/requests")
        return result
