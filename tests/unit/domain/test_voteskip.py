"""Vote-skip arithmetic."""

from __future__ import annotations

import pytest

from backbeat.domain.voteskip import skip_reached, votes_needed


@pytest.mark.parametrize(
    ("ratio", "listeners", "needed"),
    [
        (0.5, 4, 2),
        (0.5, 5, 3),
        (0.5, None, 1),
        (0.5, 0, 1),
        (1.0, 3, 3),
        (0.0, 10, 1),
        (0.34, 3, 2),
    ],
)
def test_votes_needed(ratio: float, listeners: int | None, needed: int) -> None:
    assert votes_needed(ratio, listeners) == needed


def test_skip_reached_and_bad_ratio() -> None:
    assert not skip_reached(1, 0.5, 4)
    assert skip_reached(2, 0.5, 4)
    with pytest.raises(ValueError, match="ratio"):
        votes_needed(1.5, 2)
