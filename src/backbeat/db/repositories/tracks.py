"""Length checks of track fields before they are written, the same on every backend.

PostgreSQL and MariaDB refuse a value longer than its column, SQLite stores it; checking
first makes the three agree (``ValueError`` naming the field) and keeps a too-long value
from aborting a caller's whole unit of work with a driver error.
"""

from __future__ import annotations

from typing import Final

from backbeat.domain import limits
from backbeat.domain.queue import QueueTrack

TRACK_LIMITS: Final[dict[str, int]] = {
    "encoded": limits.TRACK_ENCODED,
    "identifier": limits.TRACK_IDENTIFIER,
    "title": limits.TRACK_TITLE,
    "author": limits.TRACK_AUTHOR,
    "uri": limits.TRACK_URI,
    "source_name": limits.TRACK_SOURCE_NAME,
    "artwork_url": limits.TRACK_ARTWORK_URL,
}


def check_track(track: QueueTrack) -> None:
    """Raise ``ValueError`` if a field of ``track`` is longer than ``backbeat.domain.limits``."""
    for name, limit in TRACK_LIMITS.items():
        value: str | None = getattr(track, name)
        if value is not None and len(value) > limit:
            raise ValueError(f"track {name} is {len(value)} characters, at most {limit} allowed")
