"""Which guilds a user may manage, from Discord's answers, cached per session.

Reads (pages, GET APIs) use the session's cached ``/users/@me/guilds`` answer, refreshed after
``PANEL_DISCORD_CACHE_S``, so page loads do not hit Discord's rate limits. Writes re-check
with the bot's token at that moment: the guild's owner and roles and the member's roles give
the member's permission bits (:func:`backbeat.domain.permissions.base_permissions`).
A user who may not manage the guild, or a guild without the bot, gets
:class:`~backbeat.panel.errors.Forbidden`, and the refusal is logged.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Generic, TypeVar

from backbeat.db.repositories.panel import GuildMembership
from backbeat.domain.permissions import base_permissions, can_manage_guild
from backbeat.observability.logging import get_logger
from backbeat.observability.metrics import panel_access_refused_total
from backbeat.panel.auth import Session
from backbeat.panel.deps import PanelDeps
from backbeat.panel.discord_api import (
    DiscordRefused,
    DiscordUnavailable,
    GuildChannel,
    GuildInfo,
)
from backbeat.panel.errors import DiscordDown, Forbidden, NotLoggedIn

T = TypeVar("T")
_log = get_logger(__name__)


class TtlCache(Generic[T]):
    """Values by key for ``ttl_s`` seconds (in this process)."""

    def __init__(self, ttl_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl_s = ttl_s
        self._clock = clock
        self._values: dict[object, tuple[T, float]] = {}

    async def get(self, key: object, load: Callable[[], Awaitable[T]]) -> T:
        now = self._clock()
        found = self._values.get(key)
        if found is not None and now < found[1]:
            return found[0]
        value = await load()
        if len(self._values) > 10_000:
            self._values.clear()
        self._values[key] = (value, now + self._ttl_s)
        return value


class GuildAccess:
    """Guild lists and permission checks for sessions."""

    def __init__(self, deps: PanelDeps) -> None:
        self._deps = deps
        ttl = deps.settings.panel_discord_cache_s
        self._bot_guilds: TtlCache[set[int]] = TtlCache(ttl)
        self._guild_info: TtlCache[GuildInfo] = TtlCache(ttl)
        self._channels: TtlCache[list[GuildChannel]] = TtlCache(ttl)

    async def _user_guilds(self, session: Session) -> list[GuildMembership]:
        deps = self._deps
        fetched = session.record.guilds_fetched_at
        max_age = timedelta(seconds=deps.settings.panel_discord_cache_s)
        if fetched is not None and deps.clock() - fetched < max_age:
            return await deps.panel.guilds(session.record.session_id)
        try:
            answer = await deps.discord.my_guilds(await self._access_token(session))
        except DiscordRefused as refused:
            # The user's token was revoked or expired: the session is worthless.
            await deps.panel.delete_session(session.record.session_id)
            raise NotLoggedIn("your Discord login ended; log in again") from refused
        except DiscordUnavailable as down:
            raise DiscordDown("Discord did not answer; try again in a moment") from down
        memberships = [
            GuildMembership(
                guild_id=guild.guild_id,
                name=guild.name,
                icon=guild.icon,
                owner=guild.owner,
                permissions=guild.permissions,
            )
            for guild in answer
        ]
        await deps.panel.replace_guilds(
            session.record.session_id, memberships, fetched_at=deps.clock()
        )
        return sorted(memberships, key=lambda g: (g.name, g.guild_id))

    async def _access_token(self, session: Session) -> str:
        """The session's access token, refreshed first when it has expired."""
        deps = self._deps
        record = session.record
        if record.token_expires_at > deps.clock() or record.refresh_token is None:
            return record.access_token
        grant = await deps.discord.refresh(record.refresh_token)
        await deps.panel.update_tokens(
            record.session_id,
            access_token=grant.access_token,
            refresh_token=grant.refresh_token or record.refresh_token,
            token_expires_at=deps.clock() + timedelta(seconds=max(0, grant.expires_in)),
        )
        _log.info("panel access token refreshed", user_id=record.user_id)
        return grant.access_token

    async def bot_guild_ids(self) -> set[int]:
        try:
            return await self._bot_guilds.get("bot", self._deps.discord.bot_guild_ids)
        except (DiscordRefused, DiscordUnavailable) as error:
            raise DiscordDown("Discord did not answer; try again in a moment") from error

    async def manageable(self, session: Session) -> list[GuildMembership]:
        """The session user's guilds they may manage and the bot is in, by name."""
        guilds = await self._user_guilds(session)
        bot = await self.bot_guild_ids()
        return [
            guild
            for guild in guilds
            if guild.guild_id in bot
            and can_manage_guild(owner=guild.owner, permissions=guild.permissions)
        ]

    async def require_read(self, session: Session, guild_id: int) -> GuildMembership:
        """The guild when the user may manage it (cached answer); else Forbidden."""
        for guild in await self.manageable(session):
            if guild.guild_id == guild_id:
                return guild
        _log.warning("panel access refused", guild_id=guild_id, user_id=session.user_id)
        panel_access_refused_total.labels("not_manager").inc()
        raise Forbidden("you do not manage this server, or Backbeat is not in it")

    async def require_write(self, session: Session, guild_id: int) -> GuildInfo:
        """Re-check, with the bot's token now, that the user may manage the guild."""
        await self.require_read(session, guild_id)
        deps = self._deps
        try:
            info = await deps.discord.guild(guild_id)
            roles = await deps.discord.member_role_ids(guild_id, session.user_id)
        except DiscordRefused as refused:
            _log.warning(
                "panel write refused: guild not visible to the bot",
                guild_id=guild_id,
                user_id=session.user_id,
                status=refused.status,
            )
            panel_access_refused_total.labels("bot_absent").inc()
            raise Forbidden("Backbeat cannot see this server any more") from refused
        except DiscordUnavailable as down:
            raise DiscordDown("Discord did not answer; try again in a moment") from down
        if roles is None:
            _log.warning(
                "panel write refused: not a member", guild_id=guild_id, user_id=session.user_id
            )
            panel_access_refused_total.labels("not_member").inc()
            raise Forbidden("you are no longer a member of this server")
        permissions = base_permissions(
            guild_id=guild_id,
            owner_id=info.owner_id,
            user_id=session.user_id,
            member_role_ids=roles,
            role_permissions={role.role_id: role.permissions for role in info.roles},
        )
        if not can_manage_guild(owner=info.owner_id == session.user_id, permissions=permissions):
            _log.warning(
                "panel write refused: permission gone", guild_id=guild_id, user_id=session.user_id
            )
            panel_access_refused_total.labels("permission_gone").inc()
            raise Forbidden("you no longer have the Manage Server permission here")
        return info

    async def guild_info(self, guild_id: int) -> GuildInfo:
        """The guild's roles and owner (cached)."""
        try:
            return await self._guild_info.get(guild_id, lambda: self._deps.discord.guild(guild_id))
        except (DiscordRefused, DiscordUnavailable) as error:
            raise DiscordDown("Discord did not answer; try again in a moment") from error

    async def channels(self, guild_id: int) -> list[GuildChannel]:
        """The guild's channels (cached)."""
        try:
            return await self._channels.get(guild_id, lambda: self._deps.discord.channels(guild_id))
        except (DiscordRefused, DiscordUnavailable) as error:
            raise DiscordDown("Discord did not answer; try again in a moment") from error
