"""A progress bar on standard error: what is being measured and how far along it is."""

from __future__ import annotations

import sys
import time
from typing import TextIO

WIDTH = 30


class Progress:
    """``step(label, total)`` starts a phase; ``advance(n)`` moves its bar."""

    def __init__(self, stream: TextIO | None = None, *, phases: int) -> None:
        self._stream = stream or sys.stderr
        self._phases = phases
        self._phase = 0
        self._label = ""
        self._total = 1
        self._done = 0
        self._drawn = 0.0
        self._started = time.monotonic()

    def step(self, label: str, total: int) -> None:
        if self._label:
            self._finish()
        self._phase += 1
        self._label, self._total, self._done = label, max(1, total), 0
        self._draw(force=True)

    def advance(self, count: int = 1) -> None:
        self._done = min(self._total, self._done + count)
        self._draw()

    def close(self) -> None:
        if self._label:
            self._finish()
        self._stream.write(f"done in {time.monotonic() - self._started:.0f} s\n")
        self._stream.flush()

    def _finish(self) -> None:
        self._done = self._total
        self._draw(force=True)
        self._stream.write("\n")

    def _draw(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._drawn < 0.1:
            return
        self._drawn = now
        filled = int(WIDTH * self._done / self._total)
        bar = "#" * filled + "-" * (WIDTH - filled)
        self._stream.write(
            f"\r[{self._phase}/{self._phases}] {self._label:<42} [{bar}] {self._done}/{self._total}"
        )
        self._stream.flush()
