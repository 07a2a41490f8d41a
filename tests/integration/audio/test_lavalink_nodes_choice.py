"""Node choice and node health without sockets: which node takes a player, when one flaps."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from backbeat.audio.lavalink.health import FLAP_DROPS, FLAP_WINDOW_S, NodeHealth
from backbeat.audio.lavalink.nodes import best_node


@dataclass
class _Penalty:
    total: float


@dataclass
class _Stats:
    penalty: _Penalty
    is_fake: bool = False


@dataclass
class _Node:
    name: str
    region: str
    load: float = 0.0
    stats: Any = field(init=False)

    def __post_init__(self) -> None:
        self.stats = _Stats(_Penalty(self.load))


NODES = [_Node("a", "eu", load=50.0), _Node("b", "us", load=10.0), _Node("c", "eu", load=20.0)]
ALL = {"a", "b", "c"}


def test_the_lowest_penalty_wins_without_a_region() -> None:
    assert best_node(NODES, ALL).name == "b"


def test_the_preferred_region_comes_before_the_penalty() -> None:
    assert best_node(NODES, ALL, region="eu").name == "c"
    assert best_node(NODES, {"a", "b"}, region="eu").name == "a"
    assert best_node(NODES, {"b"}, region="eu").name == "b"  # none there: any region


def test_flapping_nodes_come_last() -> None:
    assert best_node(NODES, ALL, region="eu", avoid={"c"}).name == "a"
    assert best_node(NODES, ALL, avoid={"b"}).name == "c"
    assert best_node(NODES, {"b"}, avoid={"b"}).name == "b"  # nothing steady: still served
    assert best_node(NODES, set()) is None


def test_three_drops_within_a_minute_flap_until_they_age_out() -> None:
    health = NodeHealth("a")
    health.ready("s1", resumed=False)
    for moment in (0.0, 10.0):
        health.dropped("socket closed", now=moment)
        health.ready("s1", resumed=True)
    assert not health.flapping(now=20.0)
    health.dropped("socket closed", now=30.0)
    assert FLAP_DROPS == 3
    assert health.flapping(now=30.0)
    assert health.flapping(now=FLAP_WINDOW_S)
    assert not health.flapping(now=FLAP_WINDOW_S + 10.5)  # the first drop aged out
    assert health.state == "resuming"
    assert (health.resumes, health.new_sessions, health.dropped_at) == (2, 1, 30.0)
    health.gone()
    entry = health.as_dict()
    assert (entry["state"], entry["last_error"]) == ("down", "socket closed")
