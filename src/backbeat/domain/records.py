"""Records the services write and read back: playback history, audit log, domain events, lyrics,
applied bus messages."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


class SkipReason(StrEnum):
    """Why a track stopped playing."""

    FINISHED = "finished"
    SKIPPED = "skipped"
    STOPPED = "stopped"
    REPLACED = "replaced"
    ERROR = "error"
    CLEANUP = "cleanup"


class AuditSource(StrEnum):
    """Where an audited action came from."""

    DISCORD = "discord"
    PANEL = "panel"
    SYSTEM = "system"


@dataclass(frozen=True, slots=True)
class PlayRecord:
    """One playback of a track in a guild (``ended_at`` unset while it plays)."""

    record_id: int
    guild_id: int
    identifier: str
    title: str
    author: str
    uri: str | None
    source_name: str
    length_ms: int
    requester_id: int | None
    is_autoplay: bool
    started_at: datetime
    ended_at: datetime | None = None
    skip_reason: SkipReason | None = None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """Who did what, where, from which surface."""

    entry_id: int
    guild_id: int | None
    actor_id: int | None
    action: str
    source: AuditSource
    channel_id: int | None
    payload: Mapping[str, Any]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An append-only domain event with its per-guild sequence number (1, 2, 3…)."""

    guild_id: int
    seq: int
    type: str
    payload: Mapping[str, Any]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class CachedLyrics:
    """Lyrics fetched once for a track key."""

    track_key: str
    lyrics: str
    source: str
    fetched_at: datetime
    expires_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class RateLimitPolicy:
    """At most ``limit`` uses of ``bucket`` per ``window_seconds`` (per user, in a guild)."""

    bucket: str
    limit: int
    window_seconds: int
    guild_id: int | None = None

    def __post_init__(self) -> None:
        if self.limit < 0 or self.window_seconds < 1:
            raise ValueError("limit must be >= 0 and window_seconds >= 1")


@dataclass(frozen=True, slots=True)
class AppliedMessage:
    """A bus message whose effect is committed, and the reply it produced (None: no reply).

    ``reply`` is the correlated reply as JSON (``model_dump(mode="json")``), so a
    redelivery can be answered again without applying the message twice.
    """

    message_id: str
    guild_id: int
    command_type: str
    applied_at: datetime
    reply: Mapping[str, Any] | None = None
