"""Timed lyrics in step with playback: which line is sung at a position.

The lyrics reply carries timed lines (``timestamp_ms``, ``duration_ms``, ``line``); the
gateway takes the position from the ``ui:now`` snapshot and shows the line
:func:`line_at` names, with the ones around it from :func:`window`.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from typing import Protocol


class TimedLine(Protocol):
    @property
    def timestamp_ms(self) -> int: ...

    @property
    def duration_ms(self) -> int | None: ...


def line_at(lines: Sequence[TimedLine], position_ms: int) -> int | None:
    """The index of the line sung at ``position_ms`` (lines sorted by timestamp): the last
    one that started, unless its duration has run out; None before the first line or in a
    gap."""
    starts = [line.timestamp_ms for line in lines]
    index = bisect_right(starts, position_ms) - 1
    if index < 0:
        return None
    duration = lines[index].duration_ms
    if duration is not None and duration > 0 and position_ms >= starts[index] + duration:
        return None
    return index


def window(
    lines: Sequence[TimedLine], position_ms: int, *, before: int = 1, after: int = 2
) -> tuple[int, int, int | None]:
    """``(first, end, current)``: the slice of lines to show around the current one (the
    upcoming ones when none is sung yet)."""
    current = line_at(lines, position_ms)
    anchor = current
    if anchor is None:
        anchor = bisect_right([line.timestamp_ms for line in lines], position_ms)
    first = max(0, anchor - before)
    end = min(len(lines), anchor + after + 1)
    return first, end, current
