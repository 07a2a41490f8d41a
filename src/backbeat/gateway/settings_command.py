"""``/settings``: a server manager changes the guild's ServerConfiguration from Discord.

Every change is validated (bounded options, :class:`GuildSettings`' own checks), then written
with its AuditLog row in one transaction; once committed the cached settings are deleted and
``settings-changed`` is published (audio reloads), and the settings are shown back as an
embed. Nothing reaches audio's command handlers: settings are the guild's, not the player's.
Only server managers (owner, Administrator, Manage Server) may use it: Discord hides the
command from others (``default_member_permissions``) and the gateway checks again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import discord
from discord import app_commands
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from backbeat.cache import SettingsCache
from backbeat.db.repositories import AuditRepository, ConfigurationRepository
from backbeat.db.transactions import in_transaction
from backbeat.domain.guild_settings import AutoplayMode, GuildSettings
from backbeat.domain.i18n import Translator
from backbeat.domain.permissions import CommandKind
from backbeat.domain.records import AuditSource
from backbeat.errors import BackbeatError
from backbeat.gateway.context import locale_of
from backbeat.gateway.flow import Publisher
from backbeat.gateway.gate import Gate
from backbeat.gateway.ops import ACK, EDIT_ORIGINAL, discord_operation
from backbeat.gateway.ui.embeds import EmbedFactory
from backbeat.observability.logging import get_logger

_log = get_logger(__name__)

MAX_BLACKLIST = 100
"""Entries a guild's blacklist may hold."""
MAX_BLACKLIST_ENTRY = 200
AUDIT_ACTION = "settings.update"

_ON_OFF = [app_commands.Choice(name="on", value="on"), app_commands.Choice(name="off", value="off")]
_MODES = [app_commands.Choice(name=mode.value, value=mode.value) for mode in AutoplayMode]

Refused = tuple[str, dict[str, str | int]]
Change = Callable[[GuildSettings], dict[str, Any] | Refused]
"""From the current settings, the changes to write, or a message key (and its values)
refusing them."""


class SettingsWriter:
    """Validates, writes (with the audit row), invalidates, publishes, shows."""

    def __init__(
        self,
        engine: AsyncEngine,
        cache: SettingsCache,
        bus: Publisher,
        *,
        gate: Gate,
        embeds: EmbedFactory,
        translator: Translator,
    ) -> None:
        self._engine = engine
        self._config = ConfigurationRepository(engine)
        self._audit = AuditRepository(engine)
        self._cache = cache
        self._bus = bus
        self._gate = gate
        self._embeds = embeds
        self._tr = translator

    def embed(self, settings: GuildSettings, locale: str) -> discord.Embed:
        """The settings as the manager sees them."""
        tr = self._tr
        none = tr(locale, "settings.none")
        autoplay = f"{tr(locale, 'value.on' if settings.autoplay_enabled else 'value.off')} "
        autoplay += f"({tr(locale, f'value.mode.{settings.autoplay_mode.value}')})"
        limit = settings.max_queue_per_user
        blacklist = ", ".join(f"`{entry}`" for entry in settings.blacklist) or none
        rows = [
            (
                tr(locale, "settings.dj_role"),
                f"<@&{settings.dj_role_id}>" if settings.dj_role_id else none,
            ),
            (
                tr(locale, "settings.announce_channel"),
                f"<#{settings.announce_channel_id}>" if settings.announce_channel_id else none,
            ),
            (tr(locale, "settings.autoplay"), autoplay),
            (tr(locale, "settings.default_volume"), f"{settings.default_volume}%"),
            (tr(locale, "settings.vote_skip_ratio"), f"{round(settings.vote_skip_ratio * 100)}%"),
            (tr(locale, "settings.max_queue_per_user"), str(limit) if limit else none),
            (
                tr(locale, "settings.twenty_four_seven"),
                tr(locale, "value.on" if settings.twenty_four_seven else "value.off"),
            ),
            (tr(locale, "settings.blacklist"), blacklist[:1024]),
        ]
        return self._embeds.fields(tr(locale, "settings.title"), rows)

    async def run(
        self, interaction: discord.Interaction, name: str, change: Change | None
    ) -> GuildSettings | None:
        """The whole ``/settings`` flow; ``change`` None only shows them. Returns the
        settings written (or shown), None when refused or failed."""
        locale = locale_of(interaction)
        guild_id = interaction.guild_id
        try:
            async with discord_operation(ACK):
                await interaction.response.send_message(
                    self._tr(locale, "processing"), ephemeral=True
                )
        except discord.HTTPException as error:
            _log.warning("settings not acknowledged", guild_id=guild_id, status=error.status)
            return None
        if guild_id is None:
            await self._edit(interaction, self._tr(locale, "guild_only"))
            return None
        refusal = self._gate.check(interaction, CommandKind.MANAGE, None)
        if refusal is not None:
            await self._edit(interaction, self._tr(locale, refusal.denial, **refusal.params))
            return None
        actor = interaction.user.id
        try:
            if change is None:
                settings = await self._cache.get(guild_id)
                await self._edit(interaction, None, self.embed(settings, locale))
                return settings
            result = await self._write(guild_id, actor, interaction.channel_id, change)
        except BackbeatError as error:
            _log.warning("settings not saved", guild_id=guild_id, error=str(error))
            await self._edit(interaction, self._tr(locale, "settings.failed"))
            return None
        if isinstance(result[0], str):
            key, params = result
            await self._edit(interaction, self._tr(locale, key, **params))
            return None
        settings, names = result
        try:
            await self._cache.changed(self._bus, guild_id=guild_id, actor_id=actor, names=names)
        except Exception:  # the write committed: audio reloads at the latest on cache expiry
            _log.exception("settings-changed not published", guild_id=guild_id)
        _log.info("settings changed", guild_id=guild_id, user_id=actor, names=names)
        saved = self._tr(locale, "settings.saved", name=name)
        await self._edit(interaction, saved, self.embed(settings, locale))
        return settings

    async def _write(
        self, guild_id: int, actor: int, channel_id: int | None, change: Change
    ) -> tuple[GuildSettings, list[str]] | Refused:
        """One transaction: read, validate, update, audit. A refusal key writes nothing."""

        async def work(
            conn: AsyncConnection,
        ) -> tuple[GuildSettings, list[str]] | Refused:
            current = await self._config.get(guild_id=guild_id, conn=conn)
            changes = change(current)
            if isinstance(changes, tuple):
                return changes
            try:
                new = await self._config.update(guild_id=guild_id, conn=conn, **changes)
            except ValueError as error:
                _log.info("settings refused", guild_id=guild_id, error=str(error))
                return "settings.failed", {}
            await self._audit.append(
                action=AUDIT_ACTION,
                source=AuditSource.DISCORD,
                guild_id=guild_id,
                actor_id=actor,
                channel_id=channel_id,
                payload={name: _jsonable(value) for name, value in changes.items()},
                conn=conn,
            )
            return new, sorted(changes)

        return await in_transaction(self._engine, "gateway.settings", work)

    async def _edit(
        self, interaction: discord.Interaction, text: str | None, embed: discord.Embed | None = None
    ) -> None:
        try:
            async with discord_operation(EDIT_ORIGINAL):
                await interaction.edit_original_response(content=text, embed=embed)
        except discord.HTTPException as error:
            _log.warning(
                "settings reply failed", guild_id=interaction.guild_id, status=error.status
            )


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, AutoplayMode):
        return value.value
    return value


def _entry(text: str) -> str:
    return " ".join(text.split()).lower()


def settings_group(writer: SettingsWriter) -> app_commands.Group:
    """The ``/settings`` command group (server-only, for managers)."""
    group = app_commands.Group(
        name="settings",
        description="Server settings (server managers)",
        guild_only=True,
        default_permissions=discord.Permissions(manage_guild=True),
    )

    def run(
        interaction: discord.Interaction, name: str, change: Change | None
    ) -> Awaitable[GuildSettings | None]:
        return writer.run(interaction, name, change)

    @group.command(name="show", description="Show the server's settings")
    async def show(interaction: discord.Interaction) -> None:
        await run(interaction, "show", None)

    @group.command(name="dj-role", description="The role that may control the player")
    @app_commands.describe(role="Leave out to let everyone control the player")
    async def dj_role(interaction: discord.Interaction, role: discord.Role | None = None) -> None:
        role_id = role.id if role is not None else None
        await run(interaction, "dj_role_id", lambda _: {"dj_role_id": role_id})

    @group.command(name="announce-channel", description="Where now-playing messages go")
    @app_commands.describe(channel="Leave out to use the channel of each command")
    async def announce(
        interaction: discord.Interaction, channel: discord.TextChannel | None = None
    ) -> None:
        channel_id = channel.id if channel is not None else None
        await run(interaction, "announce_channel_id", lambda _: {"announce_channel_id": channel_id})

    @group.command(name="autoplay-mode", description="How autoplay picks the next track")
    @app_commands.choices(mode=_MODES)
    async def autoplay_mode(
        interaction: discord.Interaction, mode: app_commands.Choice[str]
    ) -> None:
        chosen = AutoplayMode(mode.value)
        await run(interaction, "autoplay_mode", lambda _: {"autoplay_mode": chosen})

    @group.command(name="default-volume", description="The volume a new player starts at")
    @app_commands.describe(percent="0 to 200 (100 leaves the audio unchanged)")
    async def default_volume(
        interaction: discord.Interaction, percent: app_commands.Range[int, 0, 200]
    ) -> None:
        await run(interaction, "default_volume", lambda _: {"default_volume": percent})

    @group.command(name="vote-skip-ratio", description="Share of listeners whose votes skip")
    @app_commands.describe(percent="0 to 100 percent of the listeners")
    async def vote_ratio(
        interaction: discord.Interaction, percent: app_commands.Range[int, 0, 100]
    ) -> None:
        await run(interaction, "vote_skip_ratio", lambda _: {"vote_skip_ratio": percent / 100})

    @group.command(name="queue-limit", description="Tracks one member may have in the queue")
    @app_commands.describe(tracks="0: no limit")
    async def queue_limit(
        interaction: discord.Interaction, tracks: app_commands.Range[int, 0, 10_000]
    ) -> None:
        value = tracks or None
        await run(interaction, "max_queue_per_user", lambda _: {"max_queue_per_user": value})

    @group.command(name="247", description="Stay in the voice channel around the clock")
    @app_commands.choices(enabled=_ON_OFF)
    async def stay(interaction: discord.Interaction, enabled: app_commands.Choice[str]) -> None:
        on = enabled.value == "on"
        await run(interaction, "twenty_four_seven", lambda _: {"twenty_four_seven": on})

    @group.command(name="blacklist-add", description="Never play tracks matching this")
    @app_commands.describe(entry="A word, an artist or a link")
    async def blacklist_add(
        interaction: discord.Interaction,
        entry: app_commands.Range[str, 1, MAX_BLACKLIST_ENTRY],
    ) -> None:
        item = _entry(entry)

        def change(current: GuildSettings) -> dict[str, Any] | Refused:
            if item in current.blacklist:
                return {"blacklist": current.blacklist}
            if len(current.blacklist) >= MAX_BLACKLIST:
                return "settings.blacklist_full", {"limit": MAX_BLACKLIST}
            return {"blacklist": (*current.blacklist, item)}

        await run(interaction, "blacklist", change)

    @group.command(name="blacklist-remove", description="Take an entry off the blacklist")
    async def blacklist_remove(
        interaction: discord.Interaction,
        entry: app_commands.Range[str, 1, MAX_BLACKLIST_ENTRY],
    ) -> None:
        item = _entry(entry)

        def change(current: GuildSettings) -> dict[str, Any] | Refused:
            if item not in current.blacklist:
                return "settings.blacklist_absent", {"entry": item}
            return {"blacklist": tuple(e for e in current.blacklist if e != item)}

        await run(interaction, "blacklist", change)

    @group.command(name="blacklist-list", description="Show the blacklist")
    async def blacklist_list(interaction: discord.Interaction) -> None:
        await run(interaction, "blacklist", None)

    return group


__all__ = ["AUDIT_ACTION", "MAX_BLACKLIST", "SettingsWriter", "settings_group"]
