"""The worker's decision after a batch of restores: settle the memory after a large one."""

from __future__ import annotations

import gc

import pytest

from backbeat.audio import worker
from backbeat.audio.worker import FREEZE_AFTER, restore_batch_done, settle_memory


def test_only_a_large_batch_settles_the_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    settled: list[None] = []
    monkeypatch.setattr(worker, "settle_memory", lambda: settled.append(None))

    restore_batch_done(FREEZE_AFTER - 1)
    assert settled == []
    restore_batch_done(FREEZE_AFTER)
    assert settled == [None]


def test_settle_memory_freezes_the_objects_alive() -> None:
    try:
        gc.unfreeze()
        settle_memory()
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()  # the rest of the test session collects as usual
