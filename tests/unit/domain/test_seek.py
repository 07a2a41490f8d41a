"""Where a seek lands."""

from __future__ import annotations

import pytest

from backbeat.domain.seek import SeekRefused, seek_target


def test_absolute_and_relative() -> None:
    common = {"current_ms": 30_000, "length_ms": 60_000, "is_stream": False}
    assert seek_target(position_ms=5_000, offset_ms=None, **common) == 5_000  # type: ignore[arg-type]
    assert seek_target(position_ms=None, offset_ms=10_000, **common) == 40_000  # type: ignore[arg-type]
    assert seek_target(position_ms=None, offset_ms=-40_000, **common) == 0  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("position", "offset", "stream", "code"),
    [
        (60_000, None, False, "seek_past_end"),
        (None, 31_000, False, "seek_past_end"),
        (1_000, None, True, "seek_stream"),
    ],
)
def test_refused(position: int | None, offset: int | None, stream: bool, code: str) -> None:
    with pytest.raises(SeekRefused) as caught:
        seek_target(
            position_ms=position,
            offset_ms=offset,
            current_ms=30_000,
            length_ms=60_000,
            is_stream=stream,
        )
    assert caught.value.code == code
