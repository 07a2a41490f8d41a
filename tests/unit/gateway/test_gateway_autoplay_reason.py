"""The now-playing message names why autoplay chose the track, in the guild's language."""

from __future__ import annotations

from backbeat.domain.messages.common import TrackSummary
from backbeat.domain.messages.ui import AutoplayReason, NowPlayingState
from backbeat.gateway.ui.embeds import Branding, EmbedFactory

TRACK = TrackSummary(
    title="Song", author="Artist", identifier="s", source_name="youtube", length_ms=200_000
)


def test_an_autoplay_pick_shows_its_reason_and_a_users_track_none() -> None:
    factory = EmbedFactory(Branding(), clock=lambda: 10_000.0)
    pick = NowPlayingState(track=TRACK, is_autoplay_track=True, autoplay_reason="more from Artist")
    assert factory.now_playing(pick).title == "🎶 Now playing · ♾️ autoplay pick (more from Artist)"
    german = factory.now_playing(pick, "de").title
    assert german == "🎶 Es läuft · ♾️ von Autoplay gewählt (more from Artist)"
    users = NowPlayingState(track=TRACK, autoplay_reason="stale")
    assert "stale" not in (factory.now_playing(users).title or "")


def test_the_reason_in_parts_is_said_in_the_guilds_language() -> None:
    factory = EmbedFactory(Branding(), clock=lambda: 10_000.0)
    for kind, subject, english, german in [
        ("similar", "Song", "similar to Song", "ähnlich wie Song"),
        ("artist", "Artist", "more from Artist", "mehr von Artist"),
        ("genre", "lofi", "genre: lofi", "Genre: lofi"),
    ]:
        pick = NowPlayingState(
            track=TRACK,
            is_autoplay_track=True,
            autoplay_reason=english,
            autoplay_why=AutoplayReason(kind=kind, subject=subject),  # type: ignore[arg-type]
        )
        assert factory.now_playing(pick).title == f"🎶 Now playing · ♾️ autoplay pick ({english})"
        assert factory.now_playing(pick, "de").title == (
            f"🎶 Es läuft · ♾️ von Autoplay gewählt ({german})"
        )
    users = NowPlayingState(track=TRACK, autoplay_why=AutoplayReason(kind="genre", subject="x"))
    assert factory.autoplay_reason(users) is None
