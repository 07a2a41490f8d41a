"""Autoplay's pure selection: genre cues, the mixed-mode schedule, quality filters and the
no-repeat window.

Everything here works on plain values (no I/O), so the audio service's engine
(``backbeat.audio.autoplay``) only fetches candidates and history, and thousands of picks
can be checked in a unit test. A *candidate* is a :class:`~backbeat.domain.queue.QueueTrack`
plus the way it was found (:class:`Source`) and a short reason for the now-playing message.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from backbeat.domain import blacklist
from backbeat.domain.guild_settings import AutoplayMode
from backbeat.domain.queue import QueueTrack


class Source(StrEnum):
    """How a candidate was found (the concrete modes; ``mixed`` schedules these)."""

    SIMILAR = "similar"
    ARTIST = "artist"
    GENRE = "genre"


#: Mixed mode's shares, out of :data:`MIXED_CYCLE`'s length: 40 % artist, 40 % genre,
#: 20 % similar, interleaved so every run of five picks keeps the proportions exactly.
MIXED_CYCLE: tuple[Source, ...] = (
    Source.ARTIST,
    Source.GENRE,
    Source.SIMILAR,
    Source.ARTIST,
    Source.GENRE,
)

#: Genre cues in titles, channels and tags, most specific first ("lofi hip hop" is lofi).
GENRE_CUES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("lofi", ("lofi", "lo fi", "chillhop", "study beats")),
    ("synthwave", ("synthwave", "retrowave", "outrun", "darksynth")),
    ("drum-and-bass", ("drum bass", "drum and bass", "dnb", "d b", "jungle", "neurofunk")),
    ("hip-hop", ("hip hop", "boom bap", "rap", "trap")),
    ("techno", ("techno",)),
    ("house", ("deep house", "house")),
    ("metal", ("metal", "metalcore", "djent")),
    ("classical", ("classical", "etude", "prelude", "fugue", "sonata", "nocturne", "op")),
    ("ambient", ("ambient", "drone", "soundscape")),
    ("reggae", ("reggae", "dub", "ska", "dancehall")),
    ("country", ("country", "bluegrass", "honky tonk")),
    ("jazz", ("jazz", "quartet", "bebop", "swing")),
    ("rock", ("rock", "grunge", "punk")),
    ("pop", ("pop", "synthpop")),
)

_BRACKETS = re.compile(r"\([^)]*\)|\[[^\]]*\]|【[^】]*】|\{[^}]*\}")
_DASH = re.compile(r"\s+[-–—:|]\s+")
_NOISE = re.compile(
    r"\b(hd|hq|4k|official|audio|video|lyrics?|lyric video|music video|visualizer|remastered)\b"
)
_NON_WORD = re.compile(r"[^\w]+")


def _plain(text: str) -> str:
    """Lower case, accents and punctuation removed, words separated by single spaces."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(_NON_WORD.sub(" ", stripped).split())


def clean_artist(author: str) -> str:
    """The artist a channel name stands for (``Artist - Topic`` is ``Artist``)."""
    name = author.strip()
    for suffix in (" - Topic", " – Topic", "VEVO"):
        if name.endswith(suffix):
            name = name[: -len(suffix)].strip()
    return _plain(name)


def artist_name(title: str, author: str) -> str:
    """The artist as labelled: the ``Artist`` of an ``Artist - Title`` title, else the
    channel without its `` - Topic`` suffix (for a readable ``artist:`` entry)."""
    parts = _DASH.split(_BRACKETS.sub(" ", title), maxsplit=1)
    if len(parts) == 2 and parts[0].strip() and parts[1].strip():
        return parts[0].strip()
    name = author.strip()
    for suffix in (" - Topic", " – Topic"):
        name = name.removesuffix(suffix)
    return name.strip() or author


def song_key(title: str, author: str) -> tuple[str, str]:
    """``(artist, title)`` normalised, so uploads of one song under different labels meet:
    bracketed cues dropped, an ``Artist - Title`` title split, noise words removed."""
    text = _BRACKETS.sub(" ", title)
    parts = _DASH.split(text, maxsplit=1)
    artist = clean_artist(author)
    if len(parts) == 2 and parts[0].strip() and parts[1].strip():
        artist, text = _plain(parts[0]), parts[1]
        text = text.split(" | ")[0]
    name = " ".join(_NOISE.sub(" ", _plain(text)).split())
    for cue in ("slowed reverb", "sped up", "nightcore"):
        name = name.replace(cue, " ")
    return artist, " ".join(name.split())


def title_keys(title: str, author: str) -> set[str]:
    """The normalised titles an upload may go by: the whole title, and the part before a
    decoration symbol (``Song ☕ lofi hip hop beat to study to`` is also ``song``)."""
    keys = {song_key(title, author)[1]}
    for index, char in enumerate(title):
        if unicodedata.category(char) == "So":
            keys.add(song_key(title[:index], author)[1])
            break
    return {key for key in keys if key}


def detect_genre(texts: Iterable[str]) -> str | None:
    """The first genre whose cue appears as whole words in any of ``texts``."""
    haystacks = [f" {_plain(text)} " for text in texts if text]
    for genre, cues in GENRE_CUES:
        for cue in cues:
            needle = f" {_plain(cue)} "
            if any(needle in haystack for haystack in haystacks):
                return genre
    return None


def genre_of(track: QueueTrack) -> str | None:
    """A track's genre from its title, channel and plugin info (tags, genres)."""
    texts = [track.title, track.author]
    for key in ("genre", "genres", "tags"):
        value = track.extra.get(key)
        if isinstance(value, str):
            texts.append(value)
        elif isinstance(value, list | tuple):
            texts.extend(str(v) for v in value)
    return detect_genre(texts)


def vote_genre(tracks: Sequence[QueueTrack]) -> str | None:
    """The genre most of ``tracks`` carry a cue for (ties: the earlier track's)."""
    counts: dict[str, int] = {}
    for track in tracks:
        found = genre_of(track)
        if found is not None:
            counts[found] = counts.get(found, 0) + 1
    if not counts:
        return None
    return max(counts, key=lambda name: counts[name])


def source_for(mode: AutoplayMode, turn: int) -> Source:
    """The concrete source of pick number ``turn`` (mixed mode follows :data:`MIXED_CYCLE`)."""
    if mode is AutoplayMode.MIXED:
        return MIXED_CYCLE[turn % len(MIXED_CYCLE)]
    return Source(mode.value)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A track autoplay could queue, how it was found and why (for the now-playing line)."""

    track: QueueTrack
    source: Source
    reason: str


@dataclass(frozen=True, slots=True)
class Filters:
    """Quality filters: bounds on duration, streams, the guild's blacklist entries."""

    min_length_ms: int = 30_000
    max_length_ms: int = 15 * 60_000
    allow_streams: bool = False
    blocked: tuple[str, ...] = ()

    def allows(self, track: QueueTrack) -> bool:
        if track.is_stream:
            return self.allow_streams
        if not self.min_length_ms <= track.length_ms <= self.max_length_ms:
            return False
        return not blacklist.matches(self.blocked, track)

    def widened(self) -> Filters:
        """Looser bounds for a second attempt (the blacklist still holds)."""
        return Filters(
            min_length_ms=0,
            max_length_ms=max(self.max_length_ms, 60 * 60_000),
            allow_streams=self.allow_streams,
            blocked=self.blocked,
        )


def _labels(title: str, author: str) -> tuple[bool, str, set[str]]:
    """Whether the title names its artist (``Artist - Title``), the artist, the title keys."""
    plain_title = _DASH.split(_BRACKETS.sub(" ", title), maxsplit=1)
    named = len(plain_title) == 2 and bool(plain_title[0].strip() and plain_title[1].strip())
    return named, song_key(title, author)[0], title_keys(title, author)


@dataclass(slots=True)
class RepeatWindow:
    """What played recently, so nothing comes back too soon: identifiers, ``(artist,
    title)`` pairs, and titles of uploads that do not name their artist (a lyrics video of
    a song counts as the song; two different songs called "1 Hour Ambient Soundscape" by
    named artists do not)."""

    identifiers: set[str] = field(default_factory=set)
    pairs: set[tuple[str, str]] = field(default_factory=set)
    bare_titles: set[str] = field(default_factory=set)
    named_titles: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, played: Iterable[tuple[str, str, str]]) -> RepeatWindow:
        """From ``(identifier, title, author)`` triples."""
        window = cls()
        for identifier, title, author in played:
            window.add(identifier, title, author)
        return window

    def add(self, identifier: str, title: str, author: str) -> None:
        self.identifiers.add(identifier)
        named, artist, keys = _labels(title, author)
        self.pairs.update((artist, key) for key in keys)
        (self.named_titles if named else self.bare_titles).update(keys)

    def repeats(self, track: QueueTrack) -> bool:
        """Same identifier, same artist and title, or the same title where one side does
        not name its artist (a re-upload, a lyrics video, a slowed version)."""
        if track.identifier in self.identifiers:
            return True
        named, artist, keys = _labels(track.title, track.author)
        if any((artist, key) in self.pairs for key in keys):
            return True
        seen = self.bare_titles if named else self.bare_titles | self.named_titles
        return not seen.isdisjoint(keys)


def choose(
    candidates: Sequence[Candidate],
    *,
    source: Source,
    filters: Filters,
    window: RepeatWindow,
) -> Candidate | None:
    """The best candidate: the first of ``source`` that passes the filters and does not
    repeat; else the first of another source that does (so mixed mode still plays)."""
    fresh = [c for c in candidates if filters.allows(c.track) and not window.repeats(c.track)]
    for candidate in fresh:
        if candidate.source is source:
            return candidate
    return fresh[0] if fresh else None
