"""``/seek`` input: ``1:23`` or ``83`` seek to a time, ``+10`` / ``-10`` move from here."""

from __future__ import annotations

import re

from backbeat.domain.messages.commands import SeekPayload

_TIME = re.compile(r"^\s*([+-])?\s*(?:(\d{1,2}):)?(?:(\d{1,3}):)?(\d{1,5})\s*$")
MAX_SEEK_MS = 86_400_000


def parse_seek(text: str) -> SeekPayload | None:
    """The seek ``text`` asks for, or None when it is not a time.

    ``[h:]m:ss`` or plain seconds; a leading sign makes it relative. With a colon the
    seconds must be below 60 (``1:75`` is refused), without one any count up to a day.
    """
    match = _TIME.match(text)
    if match is None:
        return None
    sign, first, second, last = match.groups()
    parts = [int(p) for p in (first, second) if p is not None]
    seconds = int(last)
    if parts and seconds >= 60:
        return None
    if len(parts) == 2:
        if parts[1] >= 60:
            return None
        total = parts[0] * 3600 + parts[1] * 60 + seconds
    elif len(parts) == 1:
        total = parts[0] * 60 + seconds
    else:
        total = seconds
    ms = total * 1000
    if ms > MAX_SEEK_MS:
        return None
    if sign is None:
        return SeekPayload(position_ms=ms)
    return SeekPayload(offset_ms=-ms if sign == "-" else ms)
