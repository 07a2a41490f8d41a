"""/proc sampling: this process is found by name, its RSS is read, and a busy second counts
as CPU of its group while a process that is gone counts nothing."""

from __future__ import annotations

import os
import time

from backbeat.benchmark.sampling import CpuSampler, cpu_ticks, pids_named, rss_mb


def _comm() -> str:
    with open(f"/proc/{os.getpid()}/comm", encoding="utf-8") as comm:
        return comm.read().strip()


def test_this_process_is_found_and_measured() -> None:
    assert os.getpid() in pids_named(_comm())
    assert rss_mb(os.getpid()) > 1.0
    assert cpu_ticks(os.getpid()) >= 0


def test_busy_time_is_counted_for_its_group() -> None:
    sampler = CpuSampler({"me": [os.getpid()], "gone": [2**22 + 1]}, rss_pid=os.getpid())
    sampler.begin()
    until = time.monotonic() + 0.5
    while time.monotonic() < until:
        pass
    sampler.sample()
    window = sampler.result()

    assert window.seconds >= 0.5
    assert window.cpu_percent["me"] > 30.0
    assert window.cpu_peak_percent["me"] >= window.cpu_percent["me"]
    assert window.cpu_percent["gone"] == 0.0
    assert window.rss_max_mb >= window.rss_mb > 1.0
