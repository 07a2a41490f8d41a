"""Lyrics of a track: the LyricsCache first, else the node's lyrics route (LavaLyrics).

A track's key is ``source:identifier``. What the node answered — lyrics, timed lines, or
that there are none — is stored in ``lyrics_cache`` as JSON with a TTL
(``BACKBEAT_LYRICS_CACHE_TTL_S``, 7 days by default), so a second request for the same
track within it never reaches the node. A node without the lyrics route (404) or one that
fails counts as "none found" and is not cached.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from backbeat.audio.ports import Players
from backbeat.db.repositories.lyrics import LyricsRepository
from backbeat.domain import limits
from backbeat.domain.queue import QueueTrack
from backbeat.observability.logging import get_logger

_log = get_logger(__name__)

#: The most timed lines kept (the reply's limit).
MAX_LINES = 500


@dataclass(frozen=True, slots=True)
class TimedLine:
    timestamp_ms: int
    duration_ms: int | None
    line: str


@dataclass(frozen=True, slots=True)
class Lyrics:
    """Lyrics as the node gave them; ``text`` None: none found."""

    text: str | None
    source: str | None
    lines: tuple[TimedLine, ...] = ()


def track_key(track: QueueTrack) -> str:
    return f"{track.source_name or 'unknown'}:{track.identifier}"[:255]


def parse(body: Mapping[str, Any]) -> Lyrics:
    """A LavaLyrics object (``{sourceName, provider, text, lines}``) as :class:`Lyrics`."""
    lines: list[TimedLine] = []
    raw_lines = body.get("lines")
    for raw in raw_lines if isinstance(raw_lines, list) else []:
        if not isinstance(raw, Mapping) or not isinstance(raw.get("line"), str):
            continue
        duration = raw.get("duration")
        lines.append(
            TimedLine(
                timestamp_ms=max(0, int(raw.get("timestamp") or 0)),
                duration_ms=int(duration) if isinstance(duration, int | float) else None,
                line=str(raw["line"])[:500],
            )
        )
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        text = "\n".join(line.line for line in lines) or None
    provider = body.get("provider") or body.get("sourceName")
    return Lyrics(
        text=text, source=str(provider) if provider else None, lines=tuple(lines[:MAX_LINES])
    )


def _dump(lyrics: Lyrics) -> str:
    return json.dumps(
        {
            "text": lyrics.text,
            "lines": [[li.timestamp_ms, li.duration_ms, li.line] for li in lyrics.lines],
        }
    )


def _load(raw: str, source: str) -> Lyrics:
    data = json.loads(raw)
    lines = tuple(TimedLine(int(t), d, str(line)) for t, d, line in data.get("lines", []))
    return Lyrics(text=data.get("text"), source=source or None, lines=lines)


class LyricsService:
    """Lyrics by track, cached in SQL."""

    def __init__(self, players: Players, repository: LyricsRepository, *, ttl: timedelta) -> None:
        self.players = players
        self.repository = repository
        #: How long fetched lyrics (or their absence) stay cached.
        self.ttl = ttl

    async def for_track(self, track: QueueTrack) -> Lyrics:
        key = track_key(track)
        cached = await self.repository.get(track_key=key)
        if cached is not None:
            try:
                return _load(cached.lyrics, cached.source)
            except (ValueError, TypeError, KeyError):
                _log.warning("lyrics_cache_unreadable", track_key=key)
        try:
            body = await self.players.lyrics(track.encoded)
        except Exception as error:  # no lyrics route on the node, or it failed: none found
            _log.info("lyrics_fetch_failed", track_key=key, error=str(error)[:200])
            return Lyrics(text=None, source=None)
        found = parse(body) if body is not None else Lyrics(text=None, source=None)
        await self.repository.put(
            track_key=key,
            lyrics=_dump(found),
            source=(found.source or "")[: limits.LYRICS_SOURCE],
            ttl=self.ttl,
        )
        return found
