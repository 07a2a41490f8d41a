"""The guild settings (ServerConfiguration) cache: read through, 1 hour, invalidated on change.

Readers call :meth:`SettingsCache.get`. Every writer goes through :meth:`SettingsCache.update`
(or :meth:`SettingsCache.reset`): the SQL update commits, then the cached entry is deleted,
then a ``settings-changed`` command tells audio to reload; so nobody re-reads the old value
after the change is visible, in this process or any other sharing the Redis.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any, Protocol

from backbeat.cache.keys import GUILD_SETTINGS_TTL_S, CacheKeys
from backbeat.cache.store import CacheStore
from backbeat.db.repositories.configuration import ConfigurationRepository
from backbeat.domain.guild_settings import AutoplayMode, BlacklistScope, GuildSettings, PremiumTier
from backbeat.domain.messages import Channel, DiscordContext, Envelope
from backbeat.domain.messages.commands import SettingsChanged, SettingsChangedPayload
from backbeat.domain.messages.common import CommandSource
from backbeat.observability.logging import get_logger

_log = get_logger(__name__)


class Publisher(Protocol):
    """What the cache needs of the bus."""

    async def publish(self, channel: Channel, message: Envelope) -> str: ...


def dump_settings(settings: GuildSettings) -> bytes:
    """JSON of a guild's settings (enums as their values)."""
    data = asdict(settings)
    data["blacklist"] = list(settings.blacklist)
    return json.dumps(data, separators=(",", ":")).encode()


def load_settings(raw: bytes) -> GuildSettings:
    """The inverse of :func:`dump_settings`."""
    data: dict[str, Any] = json.loads(raw)
    data["premium_tier"] = PremiumTier(data["premium_tier"])
    data["autoplay_mode"] = AutoplayMode(data["autoplay_mode"])
    data["blacklist"] = tuple(data["blacklist"])
    # an entry cached before the setting existed has the default
    data["blacklist_scope"] = BlacklistScope(data.get("blacklist_scope", "autoplay"))
    return GuildSettings(**data)


class SettingsCache:
    """Guild settings through the cache store, with the configuration repository behind it."""

    def __init__(
        self,
        store: CacheStore,
        repository: ConfigurationRepository,
        *,
        keys: CacheKeys | None = None,
        ttl_s: float = GUILD_SETTINGS_TTL_S,
    ) -> None:
        self._store = store
        self._repository = repository
        self._keys = keys or CacheKeys()
        self._ttl_s = ttl_s

    async def get(self, guild_id: int) -> GuildSettings:
        """The guild's settings: cached, or read from SQL and cached for the TTL."""
        key = self._keys.guild_settings(guild_id)
        raw = await self._store.get(key)
        if raw is not None:
            try:
                return load_settings(raw)
            except (ValueError, TypeError, KeyError) as error:
                _log.warning(
                    "cached guild settings unreadable", guild_id=guild_id, error=str(error)
                )
        settings = await self._repository.get(guild_id=guild_id)
        await self._store.set(key, dump_settings(settings), ttl_s=self._ttl_s)
        return settings

    async def invalidate(self, guild_id: int) -> None:
        """Drop the cached entry (the next read goes to SQL)."""
        await self._store.delete(self._keys.guild_settings(guild_id))

    async def update(
        self,
        bus: Publisher,
        *,
        guild_id: int,
        actor_id: int,
        source: CommandSource = "discord",
        **changes: Any,
    ) -> GuildSettings:
        """Write settings to SQL, delete the cached entry, then publish ``settings-changed``."""
        settings = await self._repository.update(guild_id=guild_id, **changes)
        await self._changed(bus, guild_id, actor_id, source, sorted(changes))
        return settings

    async def reset(
        self, bus: Publisher, *, guild_id: int, actor_id: int, source: CommandSource = "discord"
    ) -> GuildSettings:
        """Back to the defaults, then invalidate and publish as :meth:`update` does."""
        settings = await self._repository.reset(guild_id=guild_id)
        names = [name for name in asdict(settings) if name != "guild_id"]
        await self._changed(bus, guild_id, actor_id, source, names)
        return settings

    async def changed(
        self,
        bus: Publisher,
        *,
        guild_id: int,
        actor_id: int,
        names: list[str],
        source: CommandSource = "discord",
    ) -> None:
        """After a writer committed settings itself (with an audit row in the same
        transaction): delete the cached entry, then publish ``settings-changed``."""
        await self._changed(bus, guild_id, actor_id, source, sorted(names))

    async def _changed(
        self, bus: Publisher, guild_id: int, actor_id: int, source: CommandSource, names: list[str]
    ) -> None:
        await self.invalidate(guild_id)
        await bus.publish(
            Channel.COMMANDS,
            SettingsChanged(
                guild_id=guild_id,
                source=source,
                context=DiscordContext(user_id=actor_id),
                payload=SettingsChangedPayload(keys=names[:64]),
            ),
        )
