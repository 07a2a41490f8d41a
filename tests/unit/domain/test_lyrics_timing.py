"""Timed lyrics lines advance with the playback position."""

from __future__ import annotations

from backbeat.domain.lyrics import line_at, window
from backbeat.domain.messages.to_discord import LyricLine
from backbeat.testing.lavalink.catalog import Catalog
from backbeat.testing.lavalink.codec import TrackInfo


def _lines() -> list[LyricLine]:
    return [
        LyricLine(timestamp_ms=1_000, duration_ms=2_000, line="one"),
        LyricLine(timestamp_ms=3_000, duration_ms=1_000, line="two"),
        LyricLine(timestamp_ms=6_000, duration_ms=None, line="three"),
    ]


def test_the_line_follows_the_position() -> None:
    lines = _lines()
    assert line_at(lines, 0) is None
    assert line_at(lines, 1_000) == 0
    assert line_at(lines, 2_999) == 0
    assert line_at(lines, 3_500) == 1
    assert line_at(lines, 4_500) is None  # a gap after "two"
    assert line_at(lines, 60_000) == 2
    assert window(lines, 3_500) == (0, 3, 1)
    assert window(lines, 0) == (0, 3, None)


def test_the_catalogs_timed_lines_advance_through_the_song() -> None:
    catalog = Catalog.default()
    track = next(t for t in catalog.tracks if t.lyrics == "synced" and t.youtube_id)
    info = TrackInfo(
        title=track.youtube_title,
        author=track.youtube_channel,
        length=track.duration_ms,
        identifier=str(track.youtube_id),
        is_stream=False,
        uri=f"https://www.youtube.com/watch?v={track.youtube_id}",
        source_name="youtube",
    )
    body = catalog.lyrics_for(info)
    assert body is not None
    raw = body["lines"]
    assert isinstance(raw, list)
    lines = [
        LyricLine(timestamp_ms=r["timestamp"], duration_ms=r["duration"], line=r["line"])
        for r in raw
    ]
    seen = [line_at(lines, position) for position in range(0, track.duration_ms, 500)]
    sung = [index for index in seen if index is not None]
    assert sung == sorted(sung)
    assert len(set(sung)) == len(lines)
