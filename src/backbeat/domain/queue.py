"""Queue types shared by the audio service, the gateway and the panel.

A guild's queue is one ordered list of items with a *cursor*: the item at the cursor is the
current one, items before it have been played (kept for ``previous`` and queue looping),
items after it are upcoming. When the cursor stands one past the last item the queue has
ended; the next item appended there becomes the current one.

Commands name upcoming items by their *index*: 0 is the item that plays next. Indexes are
resolved inside the database transaction, so they always mean the queue as it is then.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class LoopMode(StrEnum):
    """What ``advance`` does at the end of a track: go on, repeat it, or wrap the queue."""

    OFF = "off"
    TRACK = "track"
    QUEUE = "queue"


class ClearScope(StrEnum):
    """What ``clear`` removes: the upcoming items only, or every item (played ones too)."""

    UPCOMING = "upcoming"
    ALL = "all"


@dataclass(frozen=True, slots=True)
class QueueTrack:
    """A playable track: Lavalink's encoded string plus the info the UI and history need."""

    encoded: str
    identifier: str
    title: str
    author: str = ""
    length_ms: int = 0
    is_stream: bool = False
    uri: str | None = None
    source_name: str = ""
    artwork_url: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class NewQueueItem:
    """What a command adds to a queue."""

    track: QueueTrack
    requester_id: int | None = None
    is_autoplay: bool = False


@dataclass(frozen=True, slots=True)
class QueueEntry:
    """One item of a queue as stored.

    ``position`` is the item's index in the whole queue as kept: 0 is the oldest played item
    still kept, the current item's is the session's ``cursor``, upcoming index ``i`` is
    ``cursor + 1 + i``. It is a snapshot: inserting or removing items before it, or
    trimming played items, changes it.
    """

    item_id: int
    position: int
    track: QueueTrack
    requester_id: int | None
    is_autoplay: bool
    added_at: datetime
    is_current: bool = False


@dataclass(frozen=True, slots=True)
class QueuePage:
    """A slice of the upcoming items, with how many there are in all."""

    items: tuple[QueueEntry, ...]
    total: int
    offset: int
    limit: int
    current: QueueEntry | None


@dataclass(frozen=True, slots=True)
class QueueSession:
    """The session state of a guild's player, kept on the queue row (restored after restarts)."""

    guild_id: int
    cursor: int
    length: int
    voice_channel_id: int | None = None
    text_channel_id: int | None = None
    announce_channel_id: int | None = None
    now_playing_message_id: int | None = None
    loop_mode: LoopMode = LoopMode.OFF
    volume: int = 100
    paused: bool = False
    position_ms: int = 0
    filters: Mapping[str, Any] = field(default_factory=dict)
    node_name: str | None = None
    lavalink_session_id: str | None = None
    updated_at: datetime | None = None
    position_at: datetime | None = None
    """When ``position_ms`` was read (None: not since the track started or while stopped)."""
    idle_leave_at: datetime | None = None
    """When the idle timer leaves voice (None: not running); likewise the alone timer's."""
    alone_pause_at: datetime | None = None
    alone_leave_at: datetime | None = None

    @property
    def upcoming(self) -> int:
        """How many items wait after the current one."""
        return max(0, self.length - self.cursor - 1)

    @property
    def has_current(self) -> bool:
        """Whether an item stands at the cursor."""
        return self.cursor < self.length
