"""The emulator's notion of time: playback positions, timers and resume timeouts run on it.

Two clocks share one interface. ``ScaledClock`` follows the machine's monotonic clock times a
speed factor (``speed=10`` plays a 3-minute track in 18 seconds). ``ManualClock`` stands still
until a test calls ``advance(ms)``, which makes playback fully deterministic.
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    """Milliseconds of emulated time since the clock was made."""

    def now_ms(self) -> float:
        """Current emulated time in milliseconds."""
        ...

    @property
    def manual(self) -> bool:
        """True when time moves only through :meth:`advance`."""
        ...

    def advance(self, ms: float) -> None:
        """Move emulated time forward by ``ms`` milliseconds."""
        ...


class ScaledClock:
    """Monotonic real time multiplied by a speed factor; ``advance`` adds an offset."""

    def __init__(self, speed: float = 1.0) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self._speed = speed
        self._origin = time.monotonic()
        self._base_ms = 0.0
        self._offset_ms = 0.0

    @property
    def manual(self) -> bool:
        return False

    @property
    def speed(self) -> float:
        """How many emulated milliseconds pass per real millisecond."""
        return self._speed

    def set_speed(self, speed: float) -> None:
        """Change the speed factor from now on, keeping the current time continuous."""
        if speed <= 0:
            raise ValueError("speed must be positive")
        now = self.now_ms()
        self._origin = time.monotonic()
        self._base_ms = now - self._offset_ms
        self._speed = speed

    def now_ms(self) -> float:
        elapsed = (time.monotonic() - self._origin) * 1000.0 * self._speed
        return self._base_ms + elapsed + self._offset_ms

    def advance(self, ms: float) -> None:
        if ms < 0:
            raise ValueError("time cannot go backwards")
        self._offset_ms += ms


class ManualClock:
    """Time that moves only when told to: for deterministic tests."""

    def __init__(self) -> None:
        self._now = 0.0

    @property
    def manual(self) -> bool:
        return True

    def now_ms(self) -> float:
        return self._now

    def advance(self, ms: float) -> None:
        if ms < 0:
            raise ValueError("time cannot go backwards")
        self._now += ms
