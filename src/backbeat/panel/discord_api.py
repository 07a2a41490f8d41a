"""The panel's calls to Discord: the OAuth2 token exchange, the user's own ``/users/@me``
answers with their bearer token, and guild details with the bot's token.

Errors are typed: :class:`DiscordRefused` (Discord said no: a bad code, an expired token,
a missing member) and :class:`DiscordUnavailable` (network error, 5xx, 429). The panel fails
closed on both: no answer, no access.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlencode, urlsplit, urlunsplit

import aiohttp

from backbeat.domain.permissions import parse_permissions
from backbeat.errors import BackbeatError

TIMEOUT_S: Final = 10.0
SCOPES: Final = "identify guilds"


class DiscordError(BackbeatError):
    """A call to Discord did not give the panel what it needed."""


class DiscordRefused(DiscordError):
    """Discord answered with a 4xx other than 429."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"Discord refused ({status}): {detail}")
        self.status = status


class DiscordUnavailable(DiscordError):
    """Discord could not be reached, failed, or rate limited the call."""


@dataclass(frozen=True, slots=True)
class TokenGrant:
    """What the token endpoint gave for a code."""

    access_token: str
    refresh_token: str | None
    expires_in: int
    scope: str


@dataclass(frozen=True, slots=True)
class DiscordUser:
    user_id: int
    username: str
    global_name: str | None
    avatar: str | None


@dataclass(frozen=True, slots=True)
class UserGuild:
    """One entry of the user's ``/users/@me/guilds``."""

    guild_id: int
    name: str
    icon: str | None
    owner: bool
    permissions: int


@dataclass(frozen=True, slots=True)
class Role:
    role_id: int
    name: str
    position: int
    permissions: int
    managed: bool


@dataclass(frozen=True, slots=True)
class GuildChannel:
    channel_id: int
    name: str
    kind: int
    position: int


@dataclass(frozen=True, slots=True)
class GuildInfo:
    guild_id: int
    name: str
    owner_id: int
    roles: tuple[Role, ...]


def authorize_url(api_base: str) -> str:
    """Discord's authorize page for an API base (``…/api/v10`` → ``…/oauth2/authorize``)."""
    parts = urlsplit(api_base)
    path = re.sub(r"/api(/v\d+)?/?$", "", parts.path)
    return urlunsplit((parts.scheme, parts.netloc, f"{path}/oauth2/authorize", "", ""))


def login_redirect(
    api_base: str, *, client_id: int, redirect_uri: str, state: str, challenge: str
) -> str:
    """The URL that sends the browser to Discord's consent page."""
    query = urlencode(
        {
            "response_type": "code",
            "client_id": str(client_id),
            "redirect_uri": redirect_uri,
            "scope": SCOPES,
            "state": state,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    return f"{authorize_url(api_base)}?{query}"


class DiscordApi:
    """One aiohttp session for every call; :meth:`close` at shutdown."""

    def __init__(
        self,
        *,
        api_base: str,
        bot_token: str | None,
        client_id: int,
        client_secret: str,
        timeout_s: float = TIMEOUT_S,
    ) -> None:
        self.api_base = api_base.rstrip("/")
        self._bot_token = bot_token
        self.client_id = client_id
        self._client_secret = client_secret
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session: aiohttp.ClientSession | None = None
        self.calls = 0

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _request(
        self, method: str, path: str, *, headers: dict[str, str], data: dict[str, str] | None = None
    ) -> Any:
        self.calls += 1
        try:
            async with self._http().request(
                method, self.api_base + path, headers=headers, data=data
            ) as response:
                body = await response.json(content_type=None)
                status = response.status
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            raise DiscordUnavailable(f"{method} {path}: {type(error).__name__}") from error
        if status == 429 or status >= 500:
            raise DiscordUnavailable(f"{method} {path}: HTTP {status}")
        if status >= 400:
            detail = body.get("error") or body.get("message") if isinstance(body, dict) else None
            raise DiscordRefused(status, str(detail or "error"))
        return body

    def _bot(self) -> dict[str, str]:
        if self._bot_token is None:
            raise DiscordUnavailable("no bot token configured (BACKBEAT_DISCORD_TOKEN)")
        return {"Authorization": f"Bot {self._bot_token}"}

    # -- OAuth2 -------------------------------------------------------------------------

    async def exchange_code(self, *, code: str, verifier: str, redirect_uri: str) -> TokenGrant:
        """Trade an authorization code (with its PKCE verifier) for the user's tokens."""
        return await self._token(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": verifier,
            }
        )

    async def refresh(self, refresh_token: str) -> TokenGrant:
        """New tokens for an expired access token (Discord rotates the refresh token too)."""
        return await self._token({"grant_type": "refresh_token", "refresh_token": refresh_token})

    async def _token(self, form: dict[str, str]) -> TokenGrant:
        body = await self._request(
            "POST",
            "/oauth2/token",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            data={
                **form,
                "client_id": str(self.client_id),
                "client_secret": self._client_secret,
            },
        )
        try:
            return TokenGrant(
                access_token=str(body["access_token"]),
                refresh_token=body.get("refresh_token"),
                expires_in=int(body.get("expires_in", 0)),
                scope=str(body.get("scope", "")),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise DiscordUnavailable("token answer without an access token") from error

    async def me(self, access_token: str) -> DiscordUser:
        body = await self._request(
            "GET", "/users/@me", headers={"Authorization": f"Bearer {access_token}"}
        )
        return DiscordUser(
            user_id=int(body["id"]),
            username=str(body.get("username") or body["id"]),
            global_name=body.get("global_name"),
            avatar=body.get("avatar"),
        )

    async def my_guilds(self, access_token: str) -> list[UserGuild]:
        """The user's guilds with their owner flag and permission bits (parsed as bits)."""
        body = await self._request(
            "GET", "/users/@me/guilds", headers={"Authorization": f"Bearer {access_token}"}
        )
        return [
            UserGuild(
                guild_id=int(entry["id"]),
                name=str(entry.get("name") or entry["id"]),
                icon=entry.get("icon"),
                owner=bool(entry.get("owner")),
                permissions=parse_permissions(entry.get("permissions")),
            )
            for entry in body
        ]

    # -- with the bot's token ------------------------------------------------------------

    async def bot_guild_ids(self) -> set[int]:
        """Ids of the guilds the bot is in (paged by 200)."""
        found: set[int] = set()
        after = 0
        while True:
            body = await self._request(
                "GET", f"/users/@me/guilds?limit=200&after={after}", headers=self._bot()
            )
            ids = [int(entry["id"]) for entry in body]
            found.update(ids)
            if len(ids) < 200:
                return found
            after = max(ids)

    async def guild(self, guild_id: int) -> GuildInfo:
        body = await self._request("GET", f"/guilds/{guild_id}", headers=self._bot())
        roles = tuple(
            sorted(
                (
                    Role(
                        role_id=int(role["id"]),
                        name=str(role["name"]),
                        position=int(role.get("position", 0)),
                        permissions=parse_permissions(role.get("permissions")),
                        managed=bool(role.get("managed")),
                    )
                    for role in body.get("roles", [])
                ),
                key=lambda role: (-role.position, role.role_id),
            )
        )
        return GuildInfo(
            guild_id=int(body["id"]),
            name=str(body.get("name") or body["id"]),
            owner_id=int(body["owner_id"]),
            roles=roles,
        )

    async def channels(self, guild_id: int) -> list[GuildChannel]:
        body = await self._request("GET", f"/guilds/{guild_id}/channels", headers=self._bot())
        channels = [
            GuildChannel(
                channel_id=int(entry["id"]),
                name=str(entry.get("name") or entry["id"]),
                kind=int(entry.get("type", 0)),
                position=int(entry.get("position", 0)),
            )
            for entry in body
        ]
        return sorted(channels, key=lambda channel: (channel.position, channel.channel_id))

    async def member_role_ids(self, guild_id: int, user_id: int) -> list[int] | None:
        """The member's role ids; None when the user is not a member of the guild."""
        try:
            body = await self._request(
                "GET", f"/guilds/{guild_id}/members/{user_id}", headers=self._bot()
            )
        except DiscordRefused as refused:
            if refused.status == 404:
                return None
            raise
        return [int(role) for role in body.get("roles", [])]
