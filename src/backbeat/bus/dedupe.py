"""Idempotency helpers: remember recent message ids; keep only the newest UI state per guild."""

from __future__ import annotations

from collections import OrderedDict


class RecentIds:
    """A bounded set of recently handled message ids (oldest forgotten first)."""

    def __init__(self, capacity: int = 10_000) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self._capacity = capacity
        self._ids: OrderedDict[str, None] = OrderedDict()

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, message_id: object) -> bool:
        return message_id in self._ids

    def add(self, message_id: str) -> bool:
        """Remember an id; False when it was already known (a duplicate)."""
        if message_id in self._ids:
            self._ids.move_to_end(message_id)
            return False
        self._ids[message_id] = None
        if len(self._ids) > self._capacity:
            self._ids.popitem(last=False)
        return True


class LatestState:
    """The highest ``state_seq`` seen per guild, to drop UI states older than one shown."""

    def __init__(self, capacity: int = 100_000) -> None:
        self._capacity = capacity
        self._seq: OrderedDict[int, int] = OrderedDict()

    def accept(self, guild_id: int, state_seq: int) -> bool:
        """True (and remembered) when ``state_seq`` is newer than any seen for the guild."""
        last = self._seq.get(guild_id)
        if last is not None and state_seq <= last:
            return False
        self._seq[guild_id] = state_seq
        self._seq.move_to_end(guild_id)
        if len(self._seq) > self._capacity:
            self._seq.popitem(last=False)
        return True
