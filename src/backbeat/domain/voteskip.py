"""Vote-skip arithmetic: how many votes skip the current track.

The ratio comes from the guild's settings (``vote_skip_ratio``), the listener count from the
gateway's ``listener-count`` messages (non-bot members in the bot's channel). A track is
skipped once the votes reach ``ceil(ratio × listeners)``, at least one vote; with no
listener count known yet a single vote is enough.
"""

from __future__ import annotations

import math


def votes_needed(ratio: float, listeners: int | None) -> int:
    """Votes that skip the track for ``listeners`` people (None: unknown, counts as one)."""
    if not 0.0 <= ratio <= 1.0:
        raise ValueError("ratio must be within 0..1")
    people = max(1, listeners or 0)
    # A small epsilon keeps 0.5 × 4 at 2 despite binary floating point.
    return max(1, math.ceil(ratio * people - 1e-9))


def skip_reached(votes: int, ratio: float, listeners: int | None) -> bool:
    """Whether ``votes`` distinct voters are enough to skip."""
    return votes >= votes_needed(ratio, listeners)
