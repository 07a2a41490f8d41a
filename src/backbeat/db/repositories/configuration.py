"""Per-guild settings: read with defaults, update with change hooks run after commit.

Hooks are how caches learn that a guild's settings changed (the configuration cache drops
its entry); they run after the transaction committed, so nobody re-reads the old value.
A failing hook is logged and does not undo the update or stop the other hooks.

Run on a given connection (``conn=``), ``update`` and ``reset`` cannot know when the caller's
transaction commits, so they run no hooks: the caller calls :meth:`notify` after its commit.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import Row, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from backbeat.db.models import ServerConfiguration
from backbeat.db.transactions import transact
from backbeat.db.types import utc_now
from backbeat.domain.guild_settings import (
    SETTING_NAMES,
    AutoplayMode,
    BlacklistScope,
    GuildSettings,
    PremiumTier,
)
from backbeat.observability.logging import get_logger

ChangeHook = Callable[[GuildSettings], Awaitable[None]]
"""Called with the new settings after an update committed."""

_TABLE = ServerConfiguration.__table__
_log = get_logger(__name__)


def _settings(row: Row[Any]) -> GuildSettings:
    return GuildSettings(
        guild_id=row.guild_id,
        premium_tier=PremiumTier(row.premium_tier),
        autoplay_enabled=bool(row.autoplay_enabled),
        autoplay_mode=AutoplayMode(row.autoplay_mode),
        default_volume=row.default_volume,
        dj_role_id=row.dj_role_id,
        twenty_four_seven=bool(row.twenty_four_seven),
        announce_channel_id=row.announce_channel_id,
        vote_skip_ratio=float(row.vote_skip_ratio),
        max_queue_per_user=row.max_queue_per_user,
        blacklist=tuple(row.blacklist or ()),
        blacklist_scope=BlacklistScope(row.blacklist_scope or BlacklistScope.AUTOPLAY.value),
    )


def _columns(settings: GuildSettings) -> dict[str, Any]:
    values = {name: getattr(settings, name) for name in SETTING_NAMES}
    values["premium_tier"] = settings.premium_tier.value
    values["autoplay_mode"] = settings.autoplay_mode.value
    values["blacklist"] = list(settings.blacklist)
    values["blacklist_scope"] = settings.blacklist_scope.value
    return values


class ConfigurationRepository:
    """The ``server_configurations`` table behind :class:`GuildSettings`."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._hooks: list[ChangeHook] = []

    def on_change(self, hook: ChangeHook) -> None:
        """Register a coroutine function called with the new settings after each update."""
        self._hooks.append(hook)

    async def get(self, *, guild_id: int, conn: AsyncConnection | None = None) -> GuildSettings:
        """The guild's settings; the defaults when it never changed any."""

        async def work(conn: AsyncConnection) -> GuildSettings:
            row = (
                await conn.execute(select(_TABLE).where(ServerConfiguration.guild_id == guild_id))
            ).one_or_none()
            return GuildSettings(guild_id=guild_id) if row is None else _settings(row)

        return await transact(self._engine, "config.get", work, read_only=True, conn=conn)

    async def update(
        self, *, guild_id: int, conn: AsyncConnection | None = None, **changes: Any
    ) -> GuildSettings:
        """Change some settings (names as in :class:`GuildSettings`) and return all of them.

        Unknown names and invalid values raise ``ValueError`` before anything is written.
        With ``conn`` no hook runs: call :meth:`notify` with the result after committing.
        """
        unknown = sorted(set(changes) - set(SETTING_NAMES))
        if unknown:
            raise ValueError(f"unknown settings: {', '.join(unknown)}")

        async def work(conn: AsyncConnection) -> GuildSettings:
            row = (
                await conn.execute(
                    select(_TABLE).where(ServerConfiguration.guild_id == guild_id).with_for_update()
                )
            ).one_or_none()
            current = GuildSettings(guild_id=guild_id) if row is None else _settings(row)
            coerced = dict(changes)
            if "premium_tier" in coerced:
                coerced["premium_tier"] = PremiumTier(coerced["premium_tier"])
            if "autoplay_mode" in coerced:
                coerced["autoplay_mode"] = AutoplayMode(coerced["autoplay_mode"])
            if "blacklist" in coerced:
                coerced["blacklist"] = tuple(coerced["blacklist"])
            if "blacklist_scope" in coerced:
                coerced["blacklist_scope"] = BlacklistScope(coerced["blacklist_scope"])
            new = dataclasses.replace(current, **coerced)
            now = utc_now()
            if row is None:
                await conn.execute(
                    insert(ServerConfiguration).values(
                        guild_id=guild_id, created_at=now, updated_at=now, **_columns(new)
                    )
                )
            else:
                await conn.execute(
                    update(ServerConfiguration)
                    .where(ServerConfiguration.guild_id == guild_id)
                    .values(updated_at=now, **_columns(new))
                )
            return new

        settings = await transact(
            self._engine, "config.update", work, retry_integrity=True, conn=conn
        )
        if conn is None:
            await self.notify(settings)
        return settings

    async def reset(self, *, guild_id: int, conn: AsyncConnection | None = None) -> GuildSettings:
        """Back to the defaults (the row is deleted); hooks run as for an update (with
        ``conn``: none, the caller calls :meth:`notify` after committing)."""

        async def work(conn: AsyncConnection) -> None:
            await conn.execute(
                delete(ServerConfiguration).where(ServerConfiguration.guild_id == guild_id)
            )

        await transact(self._engine, "config.reset", work, conn=conn)
        settings = GuildSettings(guild_id=guild_id)
        if conn is None:
            await self.notify(settings)
        return settings

    async def notify(self, settings: GuildSettings) -> None:
        """Run every change hook with ``settings`` (after the change committed)."""
        for hook in list(self._hooks):
            try:
                await hook(settings)
            except Exception:
                _log.exception("config_change_hook_failed", guild_id=settings.guild_id)
