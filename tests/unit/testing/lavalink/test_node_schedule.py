"""The node's schedule: each tick looks only at the players due, updates keep their interval."""

from __future__ import annotations

import itertools
from types import SimpleNamespace
from typing import Any, cast

from backbeat.testing.lavalink.clock import ManualClock
from backbeat.testing.lavalink.codec import TrackInfo
from backbeat.testing.lavalink.faults import FaultPlan
from backbeat.testing.lavalink.node import LavalinkNode, NodeConfig, TrackCatalog
from backbeat.testing.lavalink.player import Player, VoiceState
from backbeat.testing.lavalink.sessions import Session
from backbeat.testing.lavalink.voice_check import AcceptAnyVoice

INFO = TrackInfo(
    title="t",
    author="a",
    length=600_000,
    identifier="i",
    is_stream=False,
    uri=None,
    source_name="youtube",
)
VOICE = VoiceState(token="t", endpoint="e", session_id="s", channel_id="1")


def _node() -> LavalinkNode:
    catalog = cast(TrackCatalog, SimpleNamespace())
    return LavalinkNode(NodeConfig(), ManualClock(), catalog, FaultPlan(), AcceptAnyVoice())


class Recorder:
    """A session's ``emit``: (clock ms, guild) of every playerUpdate."""

    def __init__(self, node: LavalinkNode) -> None:
        self.node = node
        self.updates: list[tuple[float, int]] = []
        self.events: list[dict[str, Any]] = []

    def emit(self, message: dict[str, Any]) -> None:
        if message["op"] == "playerUpdate":
            self.updates.append((self.node.now(), int(message["guildId"])))
        else:
            self.events.append(message)


def _playing(node: LavalinkNode, recorder: Recorder, guild: int) -> Player:
    player = node.make_player(cast(Session, recorder), guild)
    player.connect_voice(VOICE, True, node.now())
    player.play(INFO, node.now())
    return player


async def test_players_started_apart_keep_their_own_five_second_interval() -> None:
    node = _node()
    recorder = Recorder(node)
    players = []
    for n in range(5):  # started 1.1 s apart: their updates stay staggered
        players.append(_playing(node, recorder, 100 + n))
        for _ in range(11):
            node.clock.advance(100)
            await node.tick()
    recorder.updates.clear()
    for _ in range(300):  # 30 s in 100 ms steps
        node.clock.advance(100)
        await node.tick()
    for player in players:
        times = [at for at, guild in recorder.updates if guild == player.guild_id]
        assert len(times) == 6
        assert {round(b - a) for a, b in itertools.pairwise(times)} == {5_000}
    firsts = sorted(min(at for at, g in recorder.updates if g == p.guild_id) for p in players)
    assert len(set(firsts)) == len(players)  # never all in one tick
    assert node.scheduled <= 2 * len(players)  # one live entry each (and a few stale)


async def test_a_change_brings_a_due_time_forward_and_a_destroyed_player_leaves() -> None:
    node = _node()
    recorder = Recorder(node)
    player = _playing(node, recorder, 7)
    node.clock.advance(1_000)
    await node.tick()
    player.seek(INFO.length - 500, node.now())  # the end is now 0.5 s away, not 10 min
    node.clock.advance(500)
    await node.tick()
    ends = [e for e in recorder.events if e.get("type") == "TrackEndEvent"]
    assert [e["reason"] for e in ends] == ["finished"]

    other = _playing(node, recorder, 8)
    other.destroy(node.now())
    recorder.updates.clear()
    node.clock.advance(20_000)
    await node.tick()
    assert all(guild != 8 for _, guild in recorder.updates)
