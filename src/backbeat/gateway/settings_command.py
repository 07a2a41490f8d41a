"""``/settings``: a server manager changes the guild's ServerConfiguration from Discord.

Every change is validated (bounded options, :class:`GuildSettings`' own checks), then written
with its AuditLog row in one transaction; once committed the cached settings are deleted and
``settings-changed`` is published (audio reloads), and the settings are shown back as an
embed. Nothing reaches audio's command handlers: settings are the guild's, not the player's.
Only server managers (owner, Administrator, Manage Server) may use it: Discord hides the
command from others (``default_member_permissions``) and the gateway checks again.

The blacklist holds typed entries (``artist:``, ``channel:``, ``keyword:``, ``track:``,
:mod:`backbeat.domain.blacklist`): ``blacklist-add`` takes a type or a ``kind:value`` text
and refuses an unknown type, an empty or too long entry and a full list with a message,
``blacklist-remove`` completes the guild's entries, ``blacklist-list`` shows them by type,
and ``blacklist-scope`` says whether ``/play`` honours them too (default: autoplay only).
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
from backbeat.domain import blacklist
from backbeat.domain.guild_settings import AutoplayMode, BlacklistScope, GuildSettings
from backbeat.domain.i18n import Translator
from backbeat.domain.permissions import CommandKind, Situation, check_command
from backbeat.domain.records import AuditSource
from backbeat.errors import BackbeatError
from backbeat.gateway.context import locale_of
from backbeat.gateway.flow import Publisher
from backbeat.gateway.gate import Gate, member_of
from backbeat.gateway.localization import choices
from backbeat.gateway.ops import ACK, EDIT_ORIGINAL, discord_operation
from backbeat.gateway.ui.embeds import EmbedFactory
from backbeat.observability.logging import get_logger

_log = get_logger(__name__)

MAX_BLACKLIST = blacklist.MAX_ENTRIES
"""Entries a guild's blacklist may hold."""
#: Longest text ``blacklist-add`` takes (a value plus its ``kind:``; longer values are
#: refused with a message, not by Discord, so the user learns the limit).
MAX_BLACKLIST_INPUT = 300
#: Discord's limit on an autocomplete choice's name and value.
MAX_CHOICE = 100
AUDIT_ACTION = "settings.update"

_ON_OFF = choices("value", ["on", "off"])
_MODES = choices("value.mode", [mode.value for mode in AutoplayMode])
_KINDS = choices("choice.kind", [kind.value for kind in blacklist.EntryKind])
_SCOPES = choices("value.scope", [scope.value for scope in BlacklistScope])

Refused = tuple[str, dict[str, str | int]]
Change = Callable[[GuildSettings], dict[str, Any] | Refused]
"""From the current settings, the changes to write, or a message key (and its values)
refusing them."""
View = Callable[[GuildSettings, str], discord.Embed]
"""What a read-only subcommand shows of the settings, in a locale."""


def refused(error: blacklist.BlacklistEntryError) -> Refused:
    """A blacklist refusal as its message key (``settings.blacklist_<reason>``) and values."""
    return f"settings.blacklist_{error.reason}", dict(error.params)


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
        listed = ", ".join(f"`{entry}`" for entry in settings.blacklist) or none
        scope = tr(locale, f"value.scope.{settings.blacklist_scope.value}")
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
            (tr(locale, "settings.blacklist"), listed[:1024]),
            (tr(locale, "settings.blacklist_scope"), scope),
        ]
        return self._embeds.fields(tr(locale, "settings.title"), rows)

    def blacklist_embed(self, settings: GuildSettings, locale: str) -> discord.Embed:
        """The blacklist by type, with how full it is and where it applies."""
        tr = self._tr
        groups = blacklist.by_kind(settings.blacklist)
        rows = [
            (
                tr(locale, f"settings.kind.{kind.value}"),
                "\n".join(f"`{value}`" for value in values)[:1024],
            )
            for kind, values in groups.items()
        ]
        scope = tr(locale, f"value.scope.{settings.blacklist_scope.value}")
        description = tr(locale, "settings.blacklist_scope") + f": {scope}"
        if not rows:
            description = tr(locale, "settings.blacklist_empty_list") + "\n" + description
        title = tr(
            locale, "settings.blacklist_title", count=len(settings.blacklist), limit=MAX_BLACKLIST
        )
        return self._embeds.fields(title, rows, description)

    async def entries(self, interaction: discord.Interaction, current: str) -> list[str]:
        """The guild's entries containing ``current`` (for a manager only; none when the
        settings cannot be read)."""
        guild_id = interaction.guild_id
        if guild_id is None:
            return []
        situation = Situation(user_voice_channel_id=None, bot_voice_channel_id=None)
        if check_command(member_of(interaction), CommandKind.MANAGE, situation, dj_role_id=None):
            return []
        try:
            settings = await self._cache.get(guild_id)
        except BackbeatError as error:
            _log.warning("blacklist autocomplete failed", guild_id=guild_id, error=str(error))
            return []
        wanted = blacklist.plain(current)
        return [e for e in settings.blacklist if wanted in blacklist.plain(e)][:25]

    async def run(
        self,
        interaction: discord.Interaction,
        name: str,
        change: Change | None,
        *,
        view: View | None = None,
        saved: Callable[[], Refused] | None = None,
    ) -> GuildSettings | None:
        """The whole ``/settings`` flow; ``change`` None only shows them (as ``view``, by
        default every setting). ``saved`` is the message key (and values) of a success, by
        default "Saved: NAME". Returns the settings written (or shown), None when refused
        or failed."""
        show = view or self.embed
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
                await self._edit(interaction, None, show(settings, locale))
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
        done: Refused = ("settings.saved", {"name": name})
        key, params = saved() if saved is not None else done
        await self._edit(interaction, self._tr(locale, key, **params), show(settings, locale))
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
    if isinstance(value, AutoplayMode | BlacklistScope):
        return value.value
    return value


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
    @app_commands.describe(mode="similar, artist, genre or mixed")
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
    @app_commands.describe(enabled="on or off")
    @app_commands.choices(enabled=_ON_OFF)
    async def stay(interaction: discord.Interaction, enabled: app_commands.Choice[str]) -> None:
        on = enabled.value == "on"
        await run(interaction, "twenty_four_seven", lambda _: {"twenty_four_seven": on})

    @group.command(name="blacklist-add", description="Never play tracks matching this")
    @app_commands.describe(
        entry="A word, an artist or a link; or type:value, e.g. artist:Name",
        kind="What the entry names (leave out to write type:value or a bare word or link)",
    )
    @app_commands.rename(kind="type")
    @app_commands.choices(kind=_KINDS)
    async def blacklist_add(
        interaction: discord.Interaction,
        entry: app_commands.Range[str, 1, MAX_BLACKLIST_INPUT],
        kind: app_commands.Choice[str] | None = None,
    ) -> None:
        problem: Refused | None = None
        item: blacklist.Entry | None = None
        try:
            item = blacklist.from_input(entry, None if kind is None else kind.value)
        except blacklist.BlacklistEntryError as error:
            _log.info("blacklist entry refused", guild_id=interaction.guild_id, reason=error.reason)
            problem = refused(error)

        def change(current: GuildSettings) -> dict[str, Any] | Refused:
            if item is None:
                return problem or ("settings.failed", {})
            try:
                return {"blacklist": blacklist.add(current.blacklist, item)}
            except blacklist.BlacklistEntryError as error:
                return refused(error)

        await writer.run(
            interaction,
            "blacklist",
            change,
            view=writer.blacklist_embed,
            saved=lambda: ("settings.blacklist_added", {"entry": str(item)}),
        )

    @group.command(name="blacklist-remove", description="Take an entry off the blacklist")
    @app_commands.describe(entry="The entry (as /settings blacklist-list shows it)")
    async def blacklist_remove(
        interaction: discord.Interaction,
        entry: app_commands.Range[str, 1, MAX_BLACKLIST_INPUT],
    ) -> None:
        removed: list[str] = []

        def change(current: GuildSettings) -> dict[str, Any] | Refused:
            try:
                left, gone = blacklist.remove(current.blacklist, _chosen(current, entry))
            except blacklist.BlacklistEntryError as error:
                return refused(error)
            removed.append(gone)
            return {"blacklist": left}

        await writer.run(
            interaction,
            "blacklist",
            change,
            view=writer.blacklist_embed,
            saved=lambda: ("settings.blacklist_removed", {"entry": removed[-1]}),
        )

    @blacklist_remove.autocomplete("entry")
    async def blacklist_entries(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return [
            app_commands.Choice(name=_shorten(e), value=e[:MAX_CHOICE])
            for e in await writer.entries(interaction, current)
        ]

    @group.command(name="blacklist-list", description="Show the blacklist")
    async def blacklist_list(interaction: discord.Interaction) -> None:
        await writer.run(interaction, "blacklist", None, view=writer.blacklist_embed)

    @group.command(name="blacklist-scope", description="Whether /play honours the blacklist")
    @app_commands.describe(scope="autoplay only (the default), or autoplay and /play")
    @app_commands.choices(scope=_SCOPES)
    async def blacklist_scope(
        interaction: discord.Interaction, scope: app_commands.Choice[str]
    ) -> None:
        chosen = BlacklistScope(scope.value)
        await writer.run(
            interaction,
            "blacklist_scope",
            lambda _: {"blacklist_scope": chosen},
            view=writer.blacklist_embed,
        )

    return group


def _chosen(current: GuildSettings, text: str) -> str:
    """The entry a removal names: an autocomplete choice holds at most 100 characters, so a
    100-character text that no entry equals names the one entry it begins."""
    if len(text) == MAX_CHOICE and blacklist.find(current.blacklist, text) is None:
        longer = [e for e in current.blacklist if e.startswith(text)]
        if len(longer) == 1:
            return longer[0]
    return text


def _shorten(text: str) -> str:
    return text if len(text) <= MAX_CHOICE else text[: MAX_CHOICE - 1] + "…"


__all__ = ["AUDIT_ACTION", "MAX_BLACKLIST", "SettingsWriter", "refused", "settings_group"]
