"""The state of each shard this gateway process runs: what ``/stats`` and ``/ready`` show."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from backbeat.observability.metrics import (
    gateway_shard_latency_seconds,
    gateway_shards_ready,
    gateway_shards_total,
)


class ShardState(StrEnum):
    CONNECTING = "connecting"
    CONNECTED = "connected"
    READY = "ready"
    RESUMED = "resumed"
    DISCONNECTED = "disconnected"


_UP = frozenset({ShardState.READY, ShardState.RESUMED})


@dataclass
class _Shard:
    state: ShardState = ShardState.CONNECTING
    since: float = 0.0
    reconnects: int = 0


class ShardTracker:
    """Shard states from discord.py's shard events; latencies read from the bot."""

    def __init__(
        self,
        shard_ids: Iterable[int],
        latency_of: Callable[[int], float | None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clock = clock
        self._latency_of = latency_of
        self._shards = {shard: _Shard(since=clock()) for shard in shard_ids}
        gateway_shards_total.set(len(self._shards))
        self._publish()

    @property
    def shard_ids(self) -> list[int]:
        return sorted(self._shards)

    def set_shard_ids(self, shard_ids: Iterable[int]) -> None:
        """The shards discord.py actually runs (known after login when the count was unset)."""
        wanted = set(shard_ids)
        for shard in wanted - self._shards.keys():
            self._shards[shard] = _Shard(since=self._clock())
        for shard in self._shards.keys() - wanted:
            del self._shards[shard]
        gateway_shards_total.set(len(self._shards))
        self._publish()

    def mark(self, shard_id: int, state: ShardState) -> None:
        shard = self._shards.setdefault(shard_id, _Shard())
        if state is ShardState.DISCONNECTED and shard.state is not ShardState.DISCONNECTED:
            shard.reconnects += 1
        shard.state = state
        shard.since = self._clock()
        self._publish()

    def state(self, shard_id: int) -> ShardState | None:
        shard = self._shards.get(shard_id)
        return None if shard is None else shard.state

    def all_up(self) -> bool:
        """Every shard is ready or resumed."""
        return bool(self._shards) and all(s.state in _UP for s in self._shards.values())

    def stats(self) -> dict[str, Any]:
        now = self._clock()
        shards = []
        for shard_id in sorted(self._shards):
            shard = self._shards[shard_id]
            latency = self._latency_of(shard_id)
            if latency is not None and math.isfinite(latency):
                gateway_shard_latency_seconds.labels(str(shard_id)).set(latency)
            shards.append(
                {
                    "id": shard_id,
                    "state": shard.state.value,
                    "for_s": round(now - shard.since, 3),
                    "latency_ms": None
                    if latency is None or not math.isfinite(latency)
                    else round(latency * 1000, 3),
                    "disconnects": shard.reconnects,
                }
            )
        return {"shards": shards, "ready": sum(1 for s in shards if s["state"] in _UP)}

    def _publish(self) -> None:
        gateway_shards_ready.set(sum(1 for s in self._shards.values() if s.state in _UP))
