"""Configured nodes: where they are, which one takes a new player, what ``/stats`` shows."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from backbeat.config import LavalinkNode


@dataclass(frozen=True, slots=True)
class NodeAddress:
    """A node's host, port and TLS flag, parsed from its ``http(s)://host:port`` URL."""

    host: str
    port: int
    ssl: bool

    @classmethod
    def parse(cls, url: str) -> NodeAddress:
        parts = urlsplit(url)
        if parts.scheme not in {"http", "https"} or not parts.hostname or parts.port is None:
            raise ValueError(f"node URL must be http(s)://host:port, not {url!r}")
        return cls(host=parts.hostname, port=parts.port, ssl=parts.scheme == "https")


def add_node(client: Any, node: LavalinkNode, session_id: str | None = None) -> Any:
    """Register one configured node with a lavalink.py client (it connects at once, resuming
    ``session_id`` when given)."""
    address = NodeAddress.parse(node.url)
    return client.add_node(
        address.host,
        address.port,
        node.password.get_secret_value(),
        node.region,
        name=node.name,
        ssl=address.ssl,
        session_id=session_id,
    )


def penalty(node: Any) -> float | None:
    """lavalink.py's load penalty from the node's last stats, None before any stats."""
    stats = node.stats
    if stats is None or stats.is_fake:
        return None
    return float(stats.penalty.total)


def best_node(
    nodes: Iterable[Any],
    ready: Collection[str],
    region: str | None = None,
    avoid: Collection[str] = (),
) -> Any:
    """The ready node with the lowest penalty, or None: nodes not in ``avoid`` (flapping ones)
    first, then those in ``region`` when one is there."""
    usable = [n for n in nodes if n.name in ready]
    steady = [n for n in usable if n.name not in avoid]
    usable = steady or usable
    if region is not None:
        regional = [n for n in usable if n.region == region]
        usable = regional or usable
    if not usable:
        return None
    return min(usable, key=lambda n: (penalty(n) or 0.0, n.name))


def node_stats(node: Any, ready: Collection[str], local_players: int) -> dict[str, Any]:
    """One node's ``/stats`` entry: players here and on the node, penalty and CPU (the
    failover supervisor adds state, drops and last error)."""
    entry: dict[str, Any] = {
        "name": str(node.name),
        "region": str(node.region),
        "available": node.name in ready,
        "local_players": local_players,
        "players": None,
        "playing": None,
        "penalty": penalty(node),
        "cpu": None,
    }
    stats = node.stats
    if stats is not None and not stats.is_fake:
        entry["players"] = int(stats.players)
        entry["playing"] = int(stats.playing_players)
        entry["cpu"] = {
            "cores": int(stats.cpu_cores),
            "system_load": float(stats.system_load),
            "lavalink_load": float(stats.lavalink_load),
        }
    return entry
