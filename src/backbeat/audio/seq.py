"""``state_seq`` for ``ui:now``: from the wall clock in microseconds, strictly rising per guild.

Deriving the number from a clock makes it rise across audio restarts (a new worker starts
above whatever the old one sent) without storing it; keeping it strictly increasing per
guild covers two snapshots in one microsecond and a clock that steps back.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class StateSeq:
    """Hands out the next ``state_seq`` of each guild."""

    def __init__(self, clock_ns: Callable[[], int] = time.time_ns) -> None:
        self._clock_ns = clock_ns
        self._last: dict[int, int] = {}

    def next(self, guild_id: int) -> int:
        value = max(self._clock_ns() // 1000, self._last.get(guild_id, 0) + 1)
        self._last[guild_id] = value
        return value

    def forget(self, guild_id: int) -> None:
        """Drop a guild's memory (the clock still keeps later numbers above earlier ones)."""
        self._last.pop(guild_id, None)
