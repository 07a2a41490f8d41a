"""The channel's edit budget: the now-playing message notes, the live lyrics take what is left."""

from __future__ import annotations

import pytest

from backbeat.gateway.ui.budget import ChannelBudget

CHANNEL = 7


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_takes_leave_the_reserve_to_the_now_playing_message() -> None:
    clock = Clock()
    budget = ChannelBudget(limit=5, window_s=5.0, clock=clock)
    assert [budget.try_take(CHANNEL, reserve=1) for _ in range(5)] == [True] * 4 + [False]
    assert budget.used(CHANNEL) == 4
    budget.note(CHANNEL)  # the now-playing message edits whatever the budget
    assert budget.used(CHANNEL) == 5
    assert budget.used(CHANNEL + 1) == 0  # other channels have their own window


def test_the_window_slides_and_free_in_names_when() -> None:
    clock = Clock()
    budget = ChannelBudget(limit=5, window_s=5.0, clock=clock)
    for step in range(3):
        clock.now = 100.0 + step
        budget.note(CHANNEL)
    assert budget.free_in(CHANNEL, reserve=1) == 0.0  # 3 used: one more leaves the reserve
    budget.note(CHANNEL)  # at 102.0
    assert budget.free_in(CHANNEL, reserve=1) == pytest.approx(3.0)  # the first leaves at 105
    assert not budget.try_take(CHANNEL, reserve=1)
    clock.now = 105.0
    assert budget.free_in(CHANNEL, reserve=1) == 0.0
    assert budget.try_take(CHANNEL, reserve=1)
    clock.now = 200.0
    assert budget.used(CHANNEL) == 0


def test_a_reserve_as_large_as_the_window_never_grants() -> None:
    budget = ChannelBudget(limit=2, window_s=1.0, clock=Clock())
    assert not budget.try_take(CHANNEL, reserve=2)
    assert budget.free_in(CHANNEL, reserve=2) == 1.0
    with pytest.raises(ValueError, match="limit"):
        ChannelBudget(limit=0)
