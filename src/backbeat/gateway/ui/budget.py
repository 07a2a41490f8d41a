"""Each text channel's budget of message edits, shared by the now-playing message and the
live lyrics.

Discord gives a channel's message edits one route bucket (5 edits per 5 s). The now-playing
message has priority: the UI manager only *notes* its edits (discord.py waits out the
bucket itself from the rate-limit headers), while the live lyrics *take* an edit only when
the window still holds more than a reserve kept for the now-playing message, and otherwise
wait for it to free up. So the lyrics never push the now-playing message into a 429, and
never get more than what the now-playing message leaves.

The window is Discord's, not a setting: a smaller one would leave edits unused, a larger one
would earn 429s; what an operator tunes is how often the lyrics ask
(``BACKBEAT_LYRICS_EDIT_INTERVAL_S``).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

#: Discord's bucket for ``PATCH /channels/{channel_id}/messages/{message_id}``.
EDITS_PER_WINDOW = 5
WINDOW_S = 5.0


class ChannelBudget:
    """A sliding window of edit times per channel (channels without recent edits are
    forgotten, so the memory follows the channels being edited)."""

    def __init__(
        self,
        limit: int = EDITS_PER_WINDOW,
        window_s: float = WINDOW_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if limit < 1 or window_s <= 0:
            raise ValueError("a budget needs limit >= 1 and window_s > 0")
        self.limit = limit
        self.window_s = window_s
        self._clock = clock
        self._edits: dict[int, deque[float]] = {}

    def _recent(self, channel_id: int) -> deque[float]:
        now = self._clock()
        edits = self._edits.get(channel_id)
        if edits is None:
            return deque()
        while edits and now - edits[0] >= self.window_s:
            edits.popleft()
        if not edits:
            del self._edits[channel_id]
        return edits

    def used(self, channel_id: int) -> int:
        """Edits in the channel within the last window."""
        return len(self._recent(channel_id))

    def note(self, channel_id: int) -> None:
        """Count an edit that is made whatever the budget (the now-playing message)."""
        self._recent(channel_id)
        self._edits.setdefault(channel_id, deque()).append(self._clock())

    def try_take(self, channel_id: int, *, reserve: int = 1) -> bool:
        """Count an edit if more than ``reserve`` edits of the window are left after it."""
        if len(self._recent(channel_id)) + 1 + reserve > self.limit:
            return False
        self.note(channel_id)
        return True

    def free_in(self, channel_id: int, *, reserve: int = 1) -> float:
        """Seconds until :meth:`try_take` would succeed (0: now)."""
        edits = self._recent(channel_id)
        allowed = self.limit - 1 - reserve  # edits that may be in the window before one more
        if allowed < 0:
            return self.window_s
        excess = len(edits) - allowed
        if excess <= 0:
            return 0.0
        return max(0.0, edits[excess - 1] + self.window_s - self._clock())
