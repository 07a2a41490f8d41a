"""What a user types as a blacklist entry (``/settings``, the panel): typed, validated, and
added or removed within the limits of ``domain/limits.py``."""

from __future__ import annotations

import pytest

from backbeat.domain import blacklist, limits
from backbeat.domain.blacklist import BlacklistEntryError, EntryKind, from_input


def test_input_becomes_a_typed_entry() -> None:
    assert str(from_input("artist:Harbor  Pilots")) == "artist:Harbor Pilots"
    assert str(from_input("  Channel : Lofi Girl ")) == "channel:Lofi Girl"
    assert str(from_input("nightcore")) == "keyword:nightcore"
    assert str(from_input("bad song: live")) == "keyword:bad song: live"  # no kind has a space
    assert str(from_input("https://youtu.be/dQw4w9WgXcQ")) == "track:https://youtu.be/dQw4w9WgXcQ"
    assert str(from_input("track:dQw4w9WgXcQ")) == "track:dQw4w9WgXcQ"
    assert str(from_input("Daft Punk", "artist")) == "artist:Daft Punk"
    assert str(from_input("x:y", "keyword")) == "keyword:x:y"  # a given kind takes the text as is


@pytest.mark.parametrize(
    ("text", "kind", "reason"),
    [
        ("genre:lofi", None, "unknown_kind"),
        ("lofi", "genre", "unknown_kind"),
        ("artist:", None, "empty"),
        ("   ", None, "empty"),
        ("", "track", "empty"),
        ("keyword:" + "x" * (limits.BLACKLIST_ENTRY + 1), None, "too_long"),
    ],
)
def test_bad_input_is_refused_with_a_reason(text: str, kind: str | None, reason: str) -> None:
    with pytest.raises(BlacklistEntryError) as raised:
        from_input(text, kind)
    assert raised.value.reason == reason
    if reason == "unknown_kind":
        assert raised.value.params["kinds"] == "artist:, channel:, keyword:, track:"
    if reason == "too_long":
        assert raised.value.params == {"limit": limits.BLACKLIST_ENTRY}
    assert str(from_input("x" * limits.BLACKLIST_ENTRY)).endswith("x")  # the limit itself is fine


def test_add_keeps_one_of_equal_entries_and_stops_at_the_limit() -> None:
    entries = blacklist.add((), from_input("artist:Harbor Pilots"))
    assert blacklist.add(entries, from_input("ARTIST:harbor pilots")) == entries
    assert blacklist.add(entries, from_input("keyword:harbor pilots")) != entries  # other kind
    ids = blacklist.add((), from_input("track:AbC"))
    assert blacklist.add(ids, from_input("track:abc")) == ("track:AbC", "track:abc")  # ids: case
    full = tuple(f"keyword:{i}" for i in range(limits.BLACKLIST_ENTRIES))
    with pytest.raises(BlacklistEntryError) as raised:
        blacklist.add(full, from_input("one more"))
    assert raised.value.reason == "full"
    assert raised.value.params == {"limit": limits.BLACKLIST_ENTRIES}
    assert blacklist.add(full, from_input("keyword:0")) == full  # a repeat is no addition


def test_remove_finds_the_entry_as_stored_or_as_typed_again() -> None:
    entries = ("artist:Harbor Pilots", "keyword:rock", "rain")  # "rain": an old flat entry
    assert blacklist.remove(entries, "keyword:rock") == (
        ("artist:Harbor Pilots", "rain"),
        "keyword:rock",
    )
    assert blacklist.remove(entries, "artist:harbor  pilots")[1] == "artist:Harbor Pilots"
    assert blacklist.remove(entries, "Rain")[1] == "rain"
    with pytest.raises(BlacklistEntryError) as raised:
        blacklist.remove(entries, "artist:Nobody")
    assert raised.value.reason == "absent"
    assert raised.value.params == {"entry": "artist:Nobody"}


def test_lines_from_an_editor() -> None:
    entries, problems = blacklist.from_lines(["rain", "", "artist:A", "Rain", "genre:x"])
    assert entries == ("keyword:rain", "artist:A")
    assert problems == [
        "line 5: unknown entry type 'genre' (use artist:, channel:, keyword:, track:)"
    ]
    many = [f"artist:{i}" for i in range(limits.BLACKLIST_ENTRIES + 1)]
    assert blacklist.from_lines(many)[1] == ["at most 100 entries (101 given)"]


def test_entries_by_kind_and_the_matching_entry() -> None:
    entries = ("track:t1", "artist:A", "keyword:b", "artist:C", "old flat")
    assert blacklist.by_kind(entries) == {
        EntryKind.ARTIST: ["A", "C"],
        EntryKind.KEYWORD: ["b", "old flat"],
        EntryKind.TRACK: ["t1"],
    }
