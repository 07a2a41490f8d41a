"""Search ranking: which catalog tracks a query finds, best first.

A track is scored by where the query's words appear: in the title (3 points each), in the
artist or channel (2), in tags, genres or album (1), plus a bonus when the whole query occurs
as a phrase.  At least half of the query's words must match.  Ties keep catalog order, so
results are deterministic.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from backbeat.testing.lavalink.catalog_data import CatalogTrack

__all__ = ["SearchField", "SearchIndex", "rank", "words"]

_WORD = re.compile(r"\w+")


def words(text: str) -> list[str]:
    """Lower-case word tokens of ``text`` (Unicode-aware)."""
    return _WORD.findall(text.casefold())


@dataclass(frozen=True)
class SearchField:
    """How one source labels a track: the title and author the user sees."""

    title: Callable[[CatalogTrack], str]
    author: Callable[[CatalogTrack], str]


@dataclass(frozen=True)
class _Entry:
    track: CatalogTrack
    title: frozenset[str]
    author: frozenset[str]
    extra: frozenset[str]
    title_text: str
    author_text: str


class SearchIndex:
    """Pre-tokenised tracks of one source, so a query only compares word sets."""

    def __init__(self, tracks: Iterable[CatalogTrack], field: SearchField) -> None:
        self.entries = []
        for track in tracks:
            title, author = words(field.title(track)), words(field.author(track))
            extra = words(" ".join((*track.tags, *track.genres, track.album or "")))
            self.entries.append(
                _Entry(
                    track,
                    frozenset(title),
                    frozenset(author),
                    frozenset(extra),
                    " ".join(title),
                    " ".join(author),
                )
            )

    def rank(self, query: str, limit: int) -> list[CatalogTrack]:
        """The best ``limit`` matches of ``query``."""
        tokens = words(query)
        if not tokens:
            return []
        phrase = " ".join(tokens)
        scored = [
            (score, index, entry.track)
            for index, entry in enumerate(self.entries)
            if (score := _score(tokens, phrase, entry)) > 0
        ]
        scored.sort(key=lambda item: (-item[0], item[1]))
        return [track for _, _, track in scored[:limit]]


def _score(query: list[str], phrase: str, entry: _Entry) -> int:
    matched = points = 0
    for word in query:
        hit = 3 * (word in entry.title) + 2 * (word in entry.author) + (word in entry.extra)
        matched += hit > 0
        points += hit
    if matched * 2 < len(query):
        return 0
    if phrase in entry.title_text or phrase in entry.author_text:
        points += 5
    return points


def rank(
    query: str, tracks: Iterable[CatalogTrack], field: SearchField, limit: int
) -> list[CatalogTrack]:
    """The best ``limit`` matches of ``query`` among ``tracks`` (builds a one-off index)."""
    return SearchIndex(tracks, field).rank(query, limit)
