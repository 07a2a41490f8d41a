"""The lavalink.py player keeps little per guild (a worker holds thousands): no instance
dict, the track it asked for as its encoded string only, shared empty filters; lavalink.py's
track events still reach the sink with that string."""

from __future__ import annotations

from types import SimpleNamespace

import lavalink

from backbeat.audio.lavalink.player import NO_FILTERS, BackbeatPlayer, SentTrack
from backbeat.audio.ports import PlayerEvent, TrackEnded, TrackStarted
from backbeat.domain.queue import QueueTrack

GUILD = 4_200
TRACK = QueueTrack(encoded="QAAAenc0ded", identifier="abc", title="A title", author="X")


def _player() -> tuple[BackbeatPlayer, list[PlayerEvent]]:
    node = SimpleNamespace(manager=SimpleNamespace(client=object()), name="main")
    player = BackbeatPlayer(GUILD, node)
    events: list[PlayerEvent] = []
    player.attach(events.append, lambda _player: None)
    return player, events


def test_a_player_has_no_instance_dict() -> None:
    player, _ = _player()

    assert not hasattr(player, "__dict__")


async def test_the_prepared_track_starts_and_ends_by_its_encoded_string() -> None:
    player, events = _player()

    player.prepare(TRACK)
    assert isinstance(player._next, SentTrack)
    player.current, player._next = player._next, None  # what lavalink.py does on TrackStart
    await player.handle_event(lavalink.TrackStartEvent(player, player.current))
    await player.handle_event(
        lavalink.TrackEndEvent(player, player.current, lavalink.EndReason.FINISHED)
    )

    assert events == [
        TrackStarted(GUILD, TRACK.encoded),
        TrackEnded(GUILD, TRACK.encoded, "finished"),
    ]
    assert player.encoded is None


def test_players_without_filters_share_one_empty_mapping() -> None:
    player, _ = _player()

    player.apply_player({"volume": 80, "paused": False, "filters": {}})
    assert player.filters is NO_FILTERS
    player.apply_player({"filters": {"timescale": {"speed": 1.2}}})
    assert player.filters == {"timescale": {"speed": 1.2}}
