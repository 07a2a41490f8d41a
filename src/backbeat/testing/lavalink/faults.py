"""Fault injection: the failures a real Lavalink node and its sources produce, on demand.

A :class:`FaultPlan` belongs to one emulated node. Tests (through the control API) add
faults to it; the server consults it when loading, playing, ticking and answering HTTP.
Failure messages and causes come from :mod:`failures` (the ones YouTube/lavaplayer sources
really report), so a client's error handling sees what production shows it.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Literal

from backbeat.testing.lavalink.failures import FAILURES, LoadFailure

Stage = Literal["load", "play"]


_ids = itertools.count(1)


@dataclass
class LoadFault:
    """Loading (``stage='load'``) or playing (``stage='play'``) ``match`` fails.

    ``match`` is compared with a load identifier, a track identifier and a track URI.
    ``remaining`` counts how many more times it fires (None: until removed).
    """

    match: str
    stage: Stage
    failure: LoadFailure
    remaining: int | None = None
    id: int = field(default_factory=lambda: next(_ids))

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "type": "load",
            "match": self.match,
            "stage": self.stage,
            "message": self.failure.message,
            "severity": self.failure.severity,
            "remaining": self.remaining,
        }


@dataclass
class TrackFault:
    """A TrackException (ends the track) or TrackStuck event after ``after_ms`` of track time.

    Applies to tracks played in ``guild_id`` and/or whose identifier is ``identifier``
    (None matches any).
    """

    kind: Literal["exception", "stuck"]
    after_ms: int
    guild_id: int | None = None
    identifier: str | None = None
    failure: LoadFailure = FAILURES["decoding"]
    threshold_ms: int = 10_000
    remaining: int | None = 1
    id: int = field(default_factory=lambda: next(_ids))

    def matches(self, guild_id: int, identifier: str) -> bool:
        return (self.guild_id is None or self.guild_id == guild_id) and (
            self.identifier is None or self.identifier == identifier
        )

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "type": self.kind,
            "afterMs": self.after_ms,
            "guildId": None if self.guild_id is None else str(self.guild_id),
            "identifier": self.identifier,
            "message": self.failure.message,
            "severity": self.failure.severity,
            "thresholdMs": self.threshold_ms,
            "remaining": self.remaining,
        }


@dataclass
class HttpFault:
    """The next ``remaining`` REST requests under ``path_prefix`` answer ``status``."""

    status: int
    remaining: int
    path_prefix: str = "/"
    message: str | None = None
    id: int = field(default_factory=lambda: next(_ids))

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "type": "http",
            "status": self.status,
            "remaining": self.remaining,
            "pathPrefix": self.path_prefix,
            "message": self.message,
        }


@dataclass
class Delay:
    """REST requests under ``path_prefix`` are answered ``ms`` later (``remaining`` times)."""

    ms: int
    path_prefix: str = "/"
    remaining: int | None = None
    id: int = field(default_factory=lambda: next(_ids))

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "type": "delay",
            "ms": self.ms,
            "pathPrefix": self.path_prefix,
            "remaining": self.remaining,
        }


def _spend(remaining: int | None) -> int | None:
    return None if remaining is None else remaining - 1


class FaultPlan:
    """Every fault currently armed on one node."""

    def __init__(self) -> None:
        self.load_faults: list[LoadFault] = []
        self.track_faults: list[TrackFault] = []
        self.http_faults: list[HttpFault] = []
        self.delays: list[Delay] = []

    def clear(self) -> None:
        """Disarm everything."""
        self.load_faults.clear()
        self.track_faults.clear()
        self.http_faults.clear()
        self.delays.clear()

    def remove(self, fault_id: int) -> bool:
        """Disarm one fault by id; False when no such fault is armed."""
        for bucket in (self.load_faults, self.track_faults, self.http_faults, self.delays):
            for item in bucket:
                if item.id == fault_id:
                    bucket.remove(item)  # type: ignore[arg-type]
                    return True
        return False

    def to_json(self) -> list[dict[str, object]]:
        items: list[dict[str, object]] = []
        for bucket in (self.load_faults, self.track_faults, self.http_faults, self.delays):
            items.extend(item.to_json() for item in bucket)
        return items

    def take_load_fault(self, stage: Stage, *candidates: str | None) -> LoadFailure | None:
        """The failure for loading/playing something known by any of ``candidates``."""
        names = {c for c in candidates if c}
        for fault in self.load_faults:
            if fault.stage == stage and fault.match in names:
                fault.remaining = _spend(fault.remaining)
                if fault.remaining == 0:
                    self.load_faults.remove(fault)
                return fault.failure
        return None

    def track_faults_for(self, guild_id: int, identifier: str) -> list[TrackFault]:
        """Mid-track faults to arm for a track that starts now (each use is spent)."""
        chosen: list[TrackFault] = []
        for fault in list(self.track_faults):
            if fault.matches(guild_id, identifier):
                chosen.append(fault)
                fault.remaining = _spend(fault.remaining)
                if fault.remaining == 0:
                    self.track_faults.remove(fault)
        return chosen

    def take_http_fault(self, path: str) -> HttpFault | None:
        """The injected HTTP failure for this request, if one is armed for its path."""
        for fault in self.http_faults:
            if path.startswith(fault.path_prefix):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self.http_faults.remove(fault)
                return fault
        return None

    def take_delay_ms(self, path: str) -> int:
        """Milliseconds to hold this request back (0 when no delay is armed)."""
        for delay in self.delays:
            if path.startswith(delay.path_prefix):
                delay.remaining = _spend(delay.remaining)
                if delay.remaining == 0:
                    self.delays.remove(delay)
                return delay.ms
        return 0
