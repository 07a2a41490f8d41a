"""CPU and memory of processes read from ``/proc`` (Linux), for the benchmarks' reports.

CPU is utime + stime in clock ticks, reported as % of one core over a window; a group is
several processes summed (every ``postgres`` backend, say). RSS is ``VmRSS``.
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass, field

CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_ticks(pid: int) -> int:
    """CPU time ``pid`` has used (user + system), in clock ticks."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def rss_mb(pid: int) -> float:
    """Resident set size of ``pid`` in MiB (0 when the kernel does not say)."""
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def pids_named(prefix: str) -> list[int]:
    """Processes whose command name starts with ``prefix`` (``redis-server``, ``postgres``)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError), open(f"/proc/{entry}/comm", encoding="utf-8") as f:
                if f.read().strip().startswith(prefix):
                    found.append(int(entry))
    return found


@dataclass
class _Group:
    pids: list[int]
    last: dict[int, int] = field(default_factory=dict)
    used: int = 0
    per_second: list[float] = field(default_factory=list)

    def advance(self) -> int:
        """Ticks used since the previous call; a process that ended counts what it used
        until then."""
        used = 0
        for pid in self.pids:
            try:
                ticks = cpu_ticks(pid)
            except OSError:
                continue
            used += ticks - self.last.get(pid, ticks)
            self.last[pid] = ticks
        return used


@dataclass(frozen=True)
class Window:
    """What a :class:`CpuSampler` measured: CPU (% of one core) per group, over the window
    and at its busiest interval between samples, and the RSS of the followed process."""

    seconds: float
    cpu_percent: dict[str, float]
    cpu_peak_percent: dict[str, float]
    rss_mb: float
    rss_max_mb: float


class CpuSampler:
    """CPU per process group over a window (:meth:`begin`, :meth:`sample` …,
    :meth:`result`), and the RSS of ``rss_pid`` at each sample."""

    def __init__(self, groups: dict[str, list[int]], rss_pid: int | None = None) -> None:
        self._groups = {name: _Group(pids) for name, pids in groups.items()}
        self._rss_pid = rss_pid
        self._rss: list[float] = []
        self._started = self._last_at = 0.0

    def begin(self) -> None:
        """Start the window now."""
        for group in self._groups.values():
            group.advance()
            group.used = 0
            group.per_second.clear()
        self._rss.clear()
        self._started = self._last_at = time.monotonic()

    def sample(self) -> None:
        """Add the time since the previous sample (call it about once a second)."""
        now = time.monotonic()
        elapsed = now - self._last_at
        for group in self._groups.values():
            used = group.advance()
            group.used += used
            if elapsed > 0:
                group.per_second.append(100 * used / CLK_TCK / elapsed)
        self._last_at = now
        if self._rss_pid is not None:
            with contextlib.suppress(OSError):
                self._rss.append(rss_mb(self._rss_pid))

    def result(self) -> Window:
        """The window from :meth:`begin` to the last :meth:`sample`."""
        elapsed = self._last_at - self._started
        return Window(
            seconds=round(elapsed, 1),
            cpu_percent={
                name: round(100 * g.used / CLK_TCK / elapsed, 1) if elapsed > 0 else 0.0
                for name, g in self._groups.items()
            },
            cpu_peak_percent={
                name: round(max(g.per_second, default=0.0), 1) for name, g in self._groups.items()
            },
            rss_mb=round(self._rss[-1], 1) if self._rss else 0.0,
            rss_max_mb=round(max(self._rss, default=0.0), 1),
        )
