"""Typed blacklist entries: ``artist:NAME``, ``channel:NAME``, ``keyword:WORDS``, ``track:ID``.

A guild's ``blacklist`` (ServerConfiguration) is a list of such strings. Entries of the old
flat list (a bare word or phrase) are keywords: :func:`typed` turns one into its typed
form (the migration and ``/settings`` use it), and :func:`matches` reads both.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from backbeat.domain.queue import QueueTrack


class EntryKind(StrEnum):
    ARTIST = "artist"
    CHANNEL = "channel"
    KEYWORD = "keyword"
    TRACK = "track"


#: The longest value an entry may hold.
MAX_VALUE = 200

_NON_WORD = re.compile(r"[^\w]+")
_DASH = re.compile(r"\s+[-–—:|]\s+")
_BRACKETS = re.compile(r"\([^)]*\)|\[[^\]]*\]")


def plain(text: str) -> str:
    """Lower case, accents and punctuation removed, single spaces."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(_NON_WORD.sub(" ", stripped).split())


def channel_artist(author: str) -> str:
    """The artist a channel name stands for (``Artist - Topic`` is ``Artist``), plain."""
    name = author.strip()
    for suffix in (" - Topic", " – Topic", "VEVO"):
        name = name.removesuffix(suffix).strip()
    return plain(name)


def title_artist(title: str) -> str:
    """The ``Artist`` of an ``Artist - Title`` title, plain ("" when there is none)."""
    parts = _DASH.split(_BRACKETS.sub(" ", title), maxsplit=1)
    if len(parts) == 2 and parts[0].strip() and parts[1].strip():
        return plain(parts[0])
    return ""


@dataclass(frozen=True, slots=True)
class Entry:
    kind: EntryKind
    value: str

    def __str__(self) -> str:
        return f"{self.kind.value}:{self.value}"

    def matches(self, track: QueueTrack) -> bool:
        if self.kind is EntryKind.TRACK:
            return self.value in (track.identifier, track.uri)
        if self.kind is EntryKind.ARTIST:
            wanted = channel_artist(self.value)
            return wanted in (channel_artist(track.author), title_artist(track.title))
        if self.kind is EntryKind.CHANNEL:
            return plain(self.value) == plain(track.author)
        needle = f" {plain(self.value)} "
        return needle in f" {plain(track.title)} " or needle in f" {plain(track.author)} "


def parse(raw: str) -> Entry | None:
    """An entry from its string; a bare one (the old flat list) is a keyword; None when
    empty or of an unknown kind."""
    kind, sep, value = raw.partition(":")
    if not sep:
        kind, value = EntryKind.KEYWORD.value, raw
    kind = kind.strip().lower()
    value = value.strip()[:MAX_VALUE]
    if not value:
        return None
    try:
        return Entry(EntryKind(kind), value)
    except ValueError:  # "http://…" or "a: b" from the flat list: a keyword
        whole = raw.strip()[:MAX_VALUE]
        return Entry(EntryKind.KEYWORD, whole) if whole else None


def typed(raw: str) -> str | None:
    """The typed form of an entry (``rock`` → ``keyword:rock``), None to drop it."""
    entry = parse(raw)
    return None if entry is None else str(entry)


def matches(entries: tuple[str, ...] | list[str], track: QueueTrack) -> bool:
    """Whether any entry matches ``track``."""
    for raw in entries:
        entry = parse(raw)
        if entry is not None and entry.matches(track):
            return True
    return False
