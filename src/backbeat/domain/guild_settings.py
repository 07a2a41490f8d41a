"""Per-guild settings (the seed's ``ServerConfiguration``) with their defaults and limits."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

MAX_VOLUME = 200
"""The highest volume a guild may set, in percent (Lavalink's scale: 100 = unchanged)."""


class PremiumTier(StrEnum):
    """Which premium features a guild has."""

    FREE = "free"
    PLUS = "plus"
    PRO = "pro"


class AutoplayMode(StrEnum):
    """How autoplay picks the next track when the queue ends."""

    SIMILAR = "similar"
    ARTIST = "artist"
    GENRE = "genre"
    MIXED = "mixed"


class BlacklistScope(StrEnum):
    """Which tracks the guild's blacklist keeps out: autoplay's picks only (the default), or
    also what members ask for with ``/play``, ``/playnext`` and ``/playnow``."""

    AUTOPLAY = "autoplay"
    ALL = "all"


@dataclass(frozen=True, slots=True)
class GuildSettings:
    """A guild's settings; a guild that never changed anything gets exactly these defaults."""

    guild_id: int
    premium_tier: PremiumTier = PremiumTier.FREE
    autoplay_enabled: bool = False
    autoplay_mode: AutoplayMode = AutoplayMode.SIMILAR
    default_volume: int = 100
    dj_role_id: int | None = None
    twenty_four_seven: bool = False
    announce_channel_id: int | None = None
    vote_skip_ratio: float = 0.5
    max_queue_per_user: int | None = None
    blacklist: tuple[str, ...] = field(default_factory=tuple)
    blacklist_scope: BlacklistScope = BlacklistScope.AUTOPLAY

    def __post_init__(self) -> None:
        if not 0 <= self.default_volume <= MAX_VOLUME:
            raise ValueError(f"default_volume must be within 0..{MAX_VOLUME}")
        if not 0.0 <= self.vote_skip_ratio <= 1.0:
            raise ValueError("vote_skip_ratio must be within 0..1")
        if self.max_queue_per_user is not None and self.max_queue_per_user < 1:
            raise ValueError("max_queue_per_user must be at least 1 (or unset)")


#: Names of the settings that :class:`GuildSettings` holds besides the guild id.
SETTING_NAMES: tuple[str, ...] = tuple(
    name for name in GuildSettings.__dataclass_fields__ if name != "guild_id"
)
