"""The now-playing message names why autoplay chose the track."""

from __future__ import annotations

from backbeat.domain.messages.common import TrackSummary
from backbeat.domain.messages.ui import NowPlayingState
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
