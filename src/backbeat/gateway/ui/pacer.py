"""A process-wide pace for Discord REST calls: at most ``rate`` requests per second.

discord.py waits out each route bucket from the rate-limit headers; this keeps the sum of
the now-playing traffic under Discord's global limit (50 requests per second) as well.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable


class Pacer:
    """Sliding one-second window of request start times."""

    def __init__(self, rate: int = 50, clock: Callable[[], float] = time.monotonic) -> None:
        self._rate = rate
        self._clock = clock
        self._starts: deque[float] = deque()
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        async with self._lock:
            while True:
                now = self._clock()
                while self._starts and now - self._starts[0] >= 1.0:
                    self._starts.popleft()
                if len(self._starts) < self._rate:
                    self._starts.append(now)
                    return
                await asyncio.sleep(1.0 - (now - self._starts[0]))
