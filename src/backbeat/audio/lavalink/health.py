"""Each node's health as this process sees it: state, drops, last error, flapping.

States: ``connecting`` (no ``ready`` yet), ``ready``, ``resuming`` (the socket dropped; the
grace period for a resume runs), ``down`` (the grace passed: its players were moved or wait
for a node). A node that dropped ``FLAP_DROPS`` times within ``FLAP_WINDOW_S`` is *flapping*:
it takes new or moved players only when no steady node can, until its drops age out of the
window.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Literal

NodeState = Literal["connecting", "ready", "resuming", "down"]

FLAP_DROPS = 3
FLAP_WINDOW_S = 60.0


@dataclass(slots=True)
class NodeHealth:
    """One node's state machine; ``now`` is ``time.monotonic()`` unless a test passes one."""

    name: str
    state: NodeState = "connecting"
    session_id: str | None = None
    #: monotonic time of the last dropped socket (None before the first drop).
    dropped_at: float | None = None
    drops: deque[float] = field(default_factory=deque)
    last_error: str | None = None
    resumes: int = 0
    new_sessions: int = 0

    def ready(self, session_id: str, resumed: bool) -> None:
        self.state = "ready"
        self.session_id = session_id
        if resumed:
            self.resumes += 1
        else:
            self.new_sessions += 1

    def dropped(self, error: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        self.state = "resuming"
        self.dropped_at = now
        self.last_error = error
        self.drops.append(now)
        self._trim(now)

    def gone(self) -> None:
        self.state = "down"

    def flapping(self, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        self._trim(now)
        return len(self.drops) >= FLAP_DROPS

    def _trim(self, now: float) -> None:
        while self.drops and now - self.drops[0] > FLAP_WINDOW_S:
            self.drops.popleft()

    def as_dict(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "session_id": self.session_id,
            "flapping": self.flapping(),
            "drops_last_minute": len(self.drops),
            "last_error": self.last_error,
            "resumes": self.resumes,
            "new_sessions": self.new_sessions,
        }
