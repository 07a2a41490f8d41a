"""The emulator's clock: wall time plus an offset tests can move forward.

Interaction deadlines (3 s to answer, 15 min token life) and snowflake timestamps follow this
clock, so a test reaches "after the deadline" by advancing it instead of sleeping.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime


class EmulatorClock:
    """Unix time in seconds, shifted by an adjustable offset."""

    def __init__(self, offset: float = 0.0) -> None:
        self.offset = offset

    def now(self) -> float:
        """Current emulator time (Unix seconds)."""
        return time.time() + self.offset

    def advance(self, seconds: float) -> float:
        """Move the clock forward (never backward) and return the new offset."""
        if seconds < 0:
            raise ValueError("the emulator clock only moves forward")
        self.offset += seconds
        return self.offset

    def iso(self, at: float | None = None) -> str:
        """ISO-8601 timestamp as Discord writes them (``+00:00``)."""
        moment = self.now() if at is None else at
        return datetime.fromtimestamp(moment, UTC).isoformat()
