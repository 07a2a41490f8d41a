"""Autoplay's pure selection: mixed-mode shares, filters, the no-repeat window, genre cues."""

from __future__ import annotations

from collections import Counter

from backbeat.domain import blacklist
from backbeat.domain.autoplay import (
    Candidate,
    Filters,
    RepeatWindow,
    Source,
    choose,
    detect_genre,
    song_key,
    source_for,
)
from backbeat.domain.guild_settings import AutoplayMode
from backbeat.domain.queue import QueueTrack
from backbeat.testing.lavalink.catalog import Catalog


def _track(identifier: str, title: str, author: str = "Some Artist", **kw: object) -> QueueTrack:
    return QueueTrack(
        encoded=f"enc-{identifier}",
        identifier=identifier,
        title=title,
        author=author,
        length_ms=int(kw.get("length_ms", 200_000)),  # type: ignore[call-overload]
        is_stream=bool(kw.get("is_stream", False)),
        source_name="youtube",
    )


def test_mixed_mode_over_500_picks_lands_on_40_40_20() -> None:
    window = RepeatWindow()
    picked: Counter[Source] = Counter()
    for turn in range(500):
        candidates = [
            Candidate(_track(f"{source.value}-{turn}", f"{source.value} song {turn}"), source, "r")
            for source in (Source.SIMILAR, Source.ARTIST, Source.GENRE)
        ]
        pick = choose(
            candidates,
            source=source_for(AutoplayMode.MIXED, turn),
            filters=Filters(),
            window=window,
        )
        assert pick is not None
        window.add(pick.track.identifier, pick.track.title, pick.track.author)
        picked[pick.source] += 1
    shares = {source: 100 * count / 500 for source, count in picked.items()}
    assert abs(shares[Source.ARTIST] - 40) <= 5
    assert abs(shares[Source.GENRE] - 40) <= 5
    assert abs(shares[Source.SIMILAR] - 20) <= 5


def test_single_modes_always_ask_their_own_source() -> None:
    for mode in (AutoplayMode.SIMILAR, AutoplayMode.ARTIST, AutoplayMode.GENRE):
        assert {source_for(mode, turn) for turn in range(20)} == {Source(mode.value)}


def test_reuploads_of_a_played_song_count_as_repeats() -> None:
    catalog = Catalog.default()
    for original in catalog.tracks:
        uploads = [t for t in catalog.tracks if t.song_id == original.id and t.id != original.id]
        if not uploads:
            continue
        window = RepeatWindow.of([(original.id, original.youtube_title, original.youtube_channel)])
        for upload in uploads:
            track = _track(upload.id, upload.youtube_title, upload.youtube_channel)
            assert window.repeats(track), upload.youtube_title
        other = next(t for t in catalog.tracks if t.song_id != original.id and not t.is_stream)
        assert not window.repeats(_track(other.id, other.youtube_title, other.youtube_channel))


def test_choose_skips_repeats_and_filtered_then_falls_back_to_another_source() -> None:
    played = _track("a", "Played Song")
    window = RepeatWindow.of([(played.identifier, played.title, played.author)])
    candidates = [
        Candidate(played, Source.ARTIST, "r"),
        Candidate(_track("b", "Too Short", length_ms=5_000), Source.ARTIST, "r"),
        Candidate(_track("c", "Live Radio", is_stream=True), Source.ARTIST, "r"),
        Candidate(_track("d", "Fresh Genre Song"), Source.GENRE, "r"),
    ]
    pick = choose(candidates, source=Source.ARTIST, filters=Filters(), window=window)
    assert pick is not None
    assert pick.track.identifier == "d"
    assert choose(candidates[:3], source=Source.ARTIST, filters=Filters(), window=window) is None
    widened = Filters().widened()
    pick = choose(candidates[:3], source=Source.ARTIST, filters=widened, window=window)
    assert pick is not None
    assert pick.track.identifier == "b"


def _blocks(entry: str, track: QueueTrack) -> bool:
    return blacklist.matches([entry], track)


def test_blacklist_entries_by_kind() -> None:
    track = _track("id1", "Harbor Pilots - Gentle Pulse (Official Video)", "Harbor Pilots - Topic")
    assert _blocks("artist:Harbor Pilots", track)
    assert _blocks("channel:Harbor Pilots - Topic", track)
    assert not _blocks("channel:Harbor Pilots", track)
    assert _blocks("keyword:gentle", track)
    assert _blocks("gentle", track)
    assert not _blocks("keyword:gent", track)
    assert _blocks("track:id1", track)
    assert not _blocks("track:id2", track)
    assert not Filters(blocked=("artist:harbor pilots",)).allows(track)


def test_detected_genres_agree_with_the_catalog() -> None:
    catalog = Catalog.default()
    detected = 0
    for entry in catalog.tracks:
        found = detect_genre([entry.youtube_title, entry.youtube_channel])
        if found is not None:
            detected += 1
            assert found in entry.genres, entry.youtube_title
    assert detected > len(catalog.tracks) // 3


def test_song_key_splits_artist_and_drops_cues() -> None:
    assert song_key("HARBOR PILOTS – GENTLE PULSE [Audio] HD", "tunes4all") == (
        "harbor pilots",
        "gentle pulse",
    )
    assert song_key("Gentle Pulse (Lyrics)", "Lyrics Lounge")[1] == "gentle pulse"


def test_different_songs_with_one_generic_title_are_not_repeats() -> None:
    window = RepeatWindow.of([("x", "Northern Orchard - 1 Hour Ambient Soundscape", "Marrow")])
    assert not window.repeats(_track("y", "Sunken Mirrors - 1 Hour Ambient Soundscape", "Tides"))
    assert window.repeats(_track("z", "NORTHERN ORCHARD – 1 HOUR AMBIENT SOUNDSCAPE [Audio] HD"))


def test_flat_entries_become_keywords() -> None:
    assert blacklist.typed("nightcore") == "keyword:nightcore"
    assert blacklist.typed("artist:Harbor Pilots") == "artist:Harbor Pilots"
    assert blacklist.typed("https://x.invalid/a") == "keyword:https://x.invalid/a"
    assert blacklist.typed("  ") is None
    assert blacklist.typed(blacklist.typed("rock") or "") == "keyword:rock"
