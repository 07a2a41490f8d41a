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

__all__ = ["SearchField", "rank", "words"]

_WORD = re.compile(r"\w+")


def words(text: str) -> list[str]:
    """Lower-case word tokens of ``text`` (Unicode-aware)."""
    return _WORD.findall(text.casefold())


@dataclass(frozen=True)
class SearchField:
    """How one source labels a track: the title and author the user sees."""

    title: Callable[[CatalogTrack], str]
    author: Callable[[CatalogTrack], str]


def _score(query: list[str], phrase: str, track: CatalogTrack, field: SearchField) -> int:
    title_text, author_text = field.title(track), field.author(track)
    title, author = set(words(title_text)), set(words(author_text))
    extra = set(words(" ".join((*track.tags, *track.genres, track.album or ""))))
    matched = points = 0
    for word in query:
        hit = 3 * (word in title) + 2 * (word in author) + (word in extra)
        matched += hit > 0
        points += hit
    if matched * 2 < len(query):
        return 0
    if phrase in " ".join(words(title_text)) or phrase in " ".join(words(author_text)):
        points += 5
    return points


def rank(
    query: str, tracks: Iterable[CatalogTrack], field: SearchField, limit: int
) -> list[CatalogTrack]:
    """The best ``limit`` matches of ``query`` among ``tracks``."""
    tokens = words(query)
    if not tokens:
        return []
    phrase = " ".join(tokens)
    scored = [
        (score, index, track)
        for index, track in enumerate(tracks)
        if (score := _score(tokens, phrase, track, field)) > 0
    ]
    scored.sort(key=lambda item: (-item[0], item[1]))
    return [track for _, _, track in scored[:limit]]
