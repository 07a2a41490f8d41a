"""LavaLyrics lyrics objects for catalog tracks, generated deterministically.

Tracks marked ``synced`` get timed lines spread over the song, ``plain`` ones only text,
the rest none (the route answers 204).  The words are invented from the song's own title
and a small vocabulary seeded by the track id, so the same track always has the same lyrics.
"""

from __future__ import annotations

import hashlib
import random

from backbeat.testing.lavalink.catalog_data import CatalogTrack

__all__ = ["lyric_lines", "lyrics_object"]

_SUBJECTS = ("we", "you", "I", "the city", "the night", "your shadow", "the radio")
_VERBS = ("keep running", "fall apart", "hold on", "drift away", "light it up", "come back")
_PLACES = (
    "under the neon",
    "down the highway",
    "across the water",
    "in the static",
    "on the rooftop",
    "through the rain",
)
_PROVIDERS = {"spotify": "Musixmatch", "youtube": "LyricFind", "deezer": "Deezer"}


def lyric_lines(track: CatalogTrack) -> list[str]:
    """The song's lines: two verses around a chorus that names the title."""
    rng = random.Random(hashlib.sha256(track.song_id.encode()).digest())
    hook = track.title.split(",")[0]

    def verse() -> list[str]:
        return [
            f"{rng.choice(_SUBJECTS).capitalize()} {rng.choice(_VERBS)} {rng.choice(_PLACES)}"
            for _ in range(4)
        ]

    chorus = [f"Oh, {hook.lower()}", f"{hook}, {rng.choice(_VERBS)}", f"Oh, {hook.lower()}"]
    return [*verse(), *chorus, *verse(), *chorus, *verse(), *chorus, *chorus]


def lyrics_object(track: CatalogTrack, source_name: str) -> dict[str, object] | None:
    """LavaLyrics' ``{sourceName, provider, text, lines, plugin}``, or ``None``."""
    if track.lyrics not in ("synced", "plain"):
        return None
    lines = lyric_lines(track)
    timed: list[dict[str, object]] = []
    if track.lyrics == "synced":
        start = 8_000
        step = min(8_000, max(2_500, (track.duration_ms - start - 10_000) // len(lines)))
        for index, line in enumerate(lines):
            timed.append(
                {
                    "timestamp": start + index * step,
                    "duration": step,
                    "line": line,
                    "plugin": {},
                }
            )
    return {
        "sourceName": source_name,
        "provider": _PROVIDERS.get(source_name, "LRCLIB"),
        "text": "\n".join(lines),
        "lines": timed,
        "plugin": {},
    }
