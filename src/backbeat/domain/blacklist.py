"""Typed blacklist entries: ``artist:NAME``, ``channel:NAME``, ``keyword:WORDS``, ``track:ID``.

A guild's ``blacklist`` (ServerConfiguration) is a list of such strings. Entries of the old
flat list (a bare word or phrase) are keywords: :func:`typed` turns one into its typed
form (the migration uses it), and :func:`matches` reads both.

What a user types (``/settings blacklist-add``, the panel's editor) goes through
:func:`from_input`, which refuses an unknown kind, an empty or too long value with a
:class:`BlacklistEntryError`; :func:`add` and :func:`remove` change a list within
:data:`MAX_ENTRIES`, comparing entries as :meth:`Entry.key` does (case and accents aside,
except for track ids, which are case-sensitive at their source).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from backbeat.domain import limits
from backbeat.domain.queue import QueueTrack


class EntryKind(StrEnum):
    ARTIST = "artist"
    CHANNEL = "channel"
    KEYWORD = "keyword"
    TRACK = "track"


#: The longest value an entry may hold.
MAX_VALUE = limits.BLACKLIST_ENTRY
#: The most entries one guild's blacklist may hold.
MAX_ENTRIES = limits.BLACKLIST_ENTRIES
#: The kinds as a user writes them, for messages.
KINDS = ", ".join(f"{kind.value}:" for kind in EntryKind)

_KIND_WORD = re.compile(r"[A-Za-z]+")
_LINK = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://\S+")

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

    def key(self) -> tuple[EntryKind, str]:
        """What makes two entries the same: a track id as it is, other values plain."""
        return self.kind, self.value if self.kind is EntryKind.TRACK else plain(self.value)

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
    return matching(entries, track) is not None


def matching(entries: tuple[str, ...] | list[str], track: QueueTrack) -> str | None:
    """The first entry (typed, as stored) that matches ``track``; None when none does."""
    for raw in entries:
        entry = parse(raw)
        if entry is not None and entry.matches(track):
            return str(entry)
    return None


class BlacklistEntryError(ValueError):
    """A blacklist change refused; ``reason`` is a stable code (``empty``, ``unknown_kind``,
    ``too_long``, ``full``, ``absent``) and ``params`` the values its message shows."""

    def __init__(self, reason: str, message: str, **params: str | int) -> None:
        super().__init__(message)
        self.reason = reason
        self.params: dict[str, str | int] = params


def from_input(text: str, kind: str | None = None) -> Entry:
    """An entry from what a user typed: ``kind`` given, or ``kind:value``; a bare link is a
    ``track:``, other bare text a ``keyword:``. Whitespace is collapsed, case kept."""
    value = " ".join(text.split())
    if kind is None:
        prefix, sep, rest = value.partition(":")
        if sep and _KIND_WORD.fullmatch(prefix.strip()) and not rest.startswith("//"):
            kind, value = prefix, rest.strip()
        elif _LINK.fullmatch(value):
            kind = EntryKind.TRACK.value
        else:
            kind = EntryKind.KEYWORD.value
    name = kind.strip().lower()
    try:
        entry_kind = EntryKind(name)
    except ValueError:
        raise BlacklistEntryError(
            "unknown_kind", f"unknown entry type {name!r} (use {KINDS})", kind=name, kinds=KINDS
        ) from None
    if not value:
        raise BlacklistEntryError("empty", "the entry is empty", kind=name)
    if len(value) > MAX_VALUE:
        raise BlacklistEntryError(
            "too_long", f"an entry holds at most {MAX_VALUE} characters", limit=MAX_VALUE
        )
    return Entry(entry_kind, value)


def _keys(entries: tuple[str, ...]) -> list[tuple[EntryKind, str] | None]:
    return [None if (e := parse(raw)) is None else e.key() for raw in entries]


def add(entries: tuple[str, ...], entry: Entry) -> tuple[str, ...]:
    """``entries`` with ``entry`` (unchanged when an equal one is there); refused when full."""
    if entry.key() in _keys(entries):
        return entries
    if len(entries) >= MAX_ENTRIES:
        raise BlacklistEntryError(
            "full", f"the blacklist holds at most {MAX_ENTRIES} entries", limit=MAX_ENTRIES
        )
    return (*entries, str(entry))


def find(entries: tuple[str, ...], text: str) -> str | None:
    """The stored entry ``text`` names: the string itself, or an equal entry."""
    if text in entries:
        return text
    try:
        wanted = from_input(text).key()
    except BlacklistEntryError:
        return None
    return next(
        (raw for raw, key in zip(entries, _keys(entries), strict=True) if key == wanted), None
    )


def remove(entries: tuple[str, ...], text: str) -> tuple[tuple[str, ...], str]:
    """``entries`` without the one ``text`` names, and that entry; refused when absent."""
    found = find(entries, text)
    if found is None:
        shown = " ".join(text.split())[:MAX_VALUE]
        raise BlacklistEntryError("absent", f"{shown} is not on the blacklist", entry=shown)
    return tuple(raw for raw in entries if raw != found), found


def from_lines(lines: list[str]) -> tuple[tuple[str, ...], list[str]]:
    """A whole list as an editor sends it (one entry a line, blank lines skipped): the typed
    entries without repeats, and a problem per bad line (``line 3: …``), the count included."""
    entries: tuple[str, ...] = ()
    problems: list[str] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            entry = from_input(line)
        except BlacklistEntryError as error:
            problems.append(f"line {number}: {error}")
            continue
        if entry.key() not in _keys(entries):
            entries = (*entries, str(entry))
    if len(entries) > MAX_ENTRIES:
        problems.append(f"at most {MAX_ENTRIES} entries ({len(entries)} given)")
    return entries, problems


def by_kind(entries: tuple[str, ...]) -> dict[EntryKind, list[str]]:
    """The entries' values grouped by kind, in the kinds' order (empty kinds left out)."""
    groups: dict[EntryKind, list[str]] = {}
    for raw in entries:
        entry = parse(raw)
        if entry is not None:
            groups.setdefault(entry.kind, []).append(entry.value)
    return {kind: groups[kind] for kind in EntryKind if kind in groups}
