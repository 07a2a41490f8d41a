"""Bounded id memory and latest-state gating."""

from __future__ import annotations

import pytest

from backbeat.bus import LatestState, RecentIds


def test_recent_ids_recognise_duplicates_and_forget_the_oldest() -> None:
    seen = RecentIds(capacity=3)
    assert seen.add("a")
    assert not seen.add("a")
    for name in "bcd":
        assert seen.add(name)
    assert len(seen) == 3
    assert "a" not in seen
    assert "d" in seen
    with pytest.raises(ValueError, match="capacity"):
        RecentIds(0)


def test_recently_seen_ids_are_kept_longest() -> None:
    seen = RecentIds(capacity=2)
    seen.add("a")
    seen.add("b")
    assert not seen.add("a")  # refreshed
    seen.add("c")
    assert "a" in seen
    assert "b" not in seen


def test_latest_state_accepts_only_rising_sequence_numbers_per_guild() -> None:
    gate = LatestState(capacity=2)
    assert gate.accept(1, 5)
    assert not gate.accept(1, 5)
    assert not gate.accept(1, 4)
    assert gate.accept(2, 1)
    assert gate.accept(1, 6)
    assert gate.accept(3, 1)  # guild 2 forgotten (capacity 2)
    assert gate.accept(2, 0)
