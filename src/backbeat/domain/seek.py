"""Where a seek lands: absolute or relative to the position now, checked against the track."""

from __future__ import annotations


class SeekRefused(ValueError):
    """A seek that cannot be done; ``code`` is the stable reason (``seek_stream``…)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def seek_target(
    *,
    position_ms: int | None,
    offset_ms: int | None,
    current_ms: int,
    length_ms: int,
    is_stream: bool,
) -> int:
    """The position to seek to, in milliseconds.

    Relative seeks before the start land at 0. A stream cannot seek; a target at or past
    the end of the track is refused (use skip for that).
    """
    if is_stream:
        raise SeekRefused("seek_stream", "a live stream cannot seek")
    if position_ms is not None:
        target = position_ms
    elif offset_ms is not None:
        target = max(0, current_ms + offset_ms)
    else:
        raise ValueError("give position_ms or offset_ms")
    if target >= length_ms:
        raise SeekRefused("seek_past_end", "the position is past the end of the track")
    return target
