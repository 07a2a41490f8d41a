"""Fixed-window counters per client address, for the login routes (in this process)."""

from __future__ import annotations

import time
from collections.abc import Callable


class WindowLimiter:
    """At most ``limit`` hits per ``window_s`` for each key; the window starts at first hit."""

    def __init__(
        self,
        *,
        limit: int,
        window_s: float,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        self._limit = limit
        self._window_s = window_s
        self._clock = clock
        self._max_keys = max_keys
        self._windows: dict[str, tuple[int, float]] = {}

    def hit(self, key: str) -> float | None:
        """Count one hit; None when allowed, else seconds until the window resets."""
        now = self._clock()
        count, ends = self._windows.get(key, (0, 0.0))
        if now >= ends:
            if len(self._windows) >= self._max_keys:
                self._windows = {k: v for k, v in self._windows.items() if v[1] > now}
            count, ends = 0, now + self._window_s
        count += 1
        self._windows[key] = (count, ends)
        if count > self._limit:
            return max(0.0, ends - now)
        return None
