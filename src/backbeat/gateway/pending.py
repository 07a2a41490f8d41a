"""Commands in flight: which interaction waits for which reply.

A reply on ``to-discord`` names its command by ``correlation_id``. While the interaction
object is still held here (same process, token fresh) the gateway edits its original
response; a reply for a command this process no longer knows (restart) is answered from the
reply's own target. Autocomplete waiters get their ``suggestions`` through a future.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

import discord

from backbeat.domain.messages.common import INTERACTION_TOKEN_LIFETIME_S
from backbeat.domain.messages.to_discord import Suggestions


class Origin(StrEnum):
    """What kind of interaction a command came from."""

    SLASH = "slash"
    BUTTON = "button"
    AUTOCOMPLETE = "autocomplete"
    MESSAGE = "message"
    """A component whose reply replaces its own message (queue page buttons, a pick)."""


@dataclass
class Pending:
    command_id: str
    guild_id: int
    origin: Origin
    interaction: discord.Interaction | None
    created: float
    partial: str = ""
    suggestions: asyncio.Future[Suggestions | None] | None = field(default=None, repr=False)


class PendingReplies:
    """Commands waiting for their reply, forgotten after the token's lifetime."""

    def __init__(
        self, clock: Callable[[], float] = time.monotonic, *, max_entries: int = 50_000
    ) -> None:
        self._clock = clock
        self._max = max_entries
        self._entries: dict[str, Pending] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def add(
        self,
        command_id: str,
        *,
        guild_id: int,
        origin: Origin,
        interaction: discord.Interaction | None,
        partial: str = "",
    ) -> Pending:
        self._expire()
        entry = Pending(command_id, guild_id, origin, interaction, self._clock(), partial)
        if origin is Origin.AUTOCOMPLETE:
            entry.suggestions = asyncio.get_running_loop().create_future()
        self._entries[command_id] = entry
        return entry

    def pop(self, command_id: str | None) -> Pending | None:
        if command_id is None:
            return None
        return self._entries.pop(command_id, None)

    def _expire(self) -> None:
        horizon = self._clock() - INTERACTION_TOKEN_LIFETIME_S
        while self._entries:
            first = next(iter(self._entries.values()))
            if first.created > horizon and len(self._entries) < self._max:
                break
            del self._entries[first.command_id]
