"""Injected faults: HTTP 429 storms and 5xx answers, and the gateway fault kinds.

HTTP faults are rules consumed by matching requests (``count`` times), applied before the
real rate limiter. Gateway faults are carried out by :class:`GatewayServer`; this module only
names and validates them.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from typing import Literal

HttpFaultKind = Literal["429", "5xx"]
GatewayFaultKind = Literal[
    "reconnect",
    "invalid_session",
    "stop_heartbeat_acks",
    "resume_heartbeat_acks",
    "close",
]
GATEWAY_FAULT_KINDS: frozenset[str] = frozenset(
    {"reconnect", "invalid_session", "stop_heartbeat_acks", "resume_heartbeat_acks", "close"}
)


@dataclass
class HttpFault:
    """Answer the next ``count`` requests on ``route`` (``None``: any API route) with a fault."""

    kind: HttpFaultKind
    count: int = 1
    route: str | None = None
    status: int = 500
    retry_after: float = 0.05
    is_global: bool = False

    def __post_init__(self) -> None:
        if self.kind not in ("429", "5xx"):
            raise ValueError("kind must be '429' or '5xx'")
        if self.count < 1:
            raise ValueError("count must be >= 1")
        if self.kind == "5xx" and not 500 <= self.status <= 599:
            raise ValueError("a 5xx fault needs a status between 500 and 599")
        if self.retry_after < 0:
            raise ValueError("retry_after must be >= 0")

    def to_json(self) -> dict[str, object]:
        return asdict(self)


class HttpFaults:
    """The pending HTTP faults, consumed first-match-first."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[HttpFault] = []

    def add(self, fault: HttpFault) -> None:
        with self._lock:
            self._faults.append(fault)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def pending(self) -> list[HttpFault]:
        with self._lock:
            return list(self._faults)

    def take(self, route_key: str) -> HttpFault | None:
        """The fault to apply to this request, if any (its count goes down by one)."""
        with self._lock:
            for fault in self._faults:
                if fault.route is None or fault.route == route_key:
                    fault.count -= 1
                    if fault.count <= 0:
                        self._faults.remove(fault)
                    return fault
        return None
