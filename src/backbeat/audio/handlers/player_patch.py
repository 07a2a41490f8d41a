"""A guild's player changes coalesced across the commands of one batch: final state only.

The processor's batch finish sets a :class:`PlayerPatch` for the guild it finishes (a
context variable, so each guild's task has its own); the controls' follow-ups then record
their change (pause, volume, filters) instead of sending it, and the processor sends what
was recorded once per field, with the last value, before anything else touches the player.
Outside a batch :func:`player_for` is the players themselves: every change goes out at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from typing import Any, Protocol

from backbeat.audio.ports import Players


class PlayerChanges(Protocol):
    """The player calls a control's follow-up makes."""

    async def set_paused(self, guild_id: int, paused: bool) -> None: ...

    async def set_volume(self, guild_id: int, percent: int) -> None: ...

    async def set_filters(self, guild_id: int, filters: Mapping[str, Any]) -> None: ...


class PlayerPatch:
    """The last pause state, volume and filters recorded for one guild, and who asked."""

    def __init__(self, players: Players, guild_id: int) -> None:
        self._players = players
        self.guild_id = guild_id
        self._paused: bool | None = None
        self._volume: int | None = None
        self._filters: Mapping[str, Any] | None = None
        #: Indexes (in the batch finish) of the commands whose changes are recorded.
        self.contributors: list[int] = []
        #: The command being finished (set by the processor).
        self.current = -1

    @property
    def pending(self) -> bool:
        return self._paused is not None or self._volume is not None or self._filters is not None

    def _check(self, guild_id: int) -> None:
        if guild_id != self.guild_id:  # pragma: no cover - a follow-up of another guild
            raise ValueError(f"patch of guild {self.guild_id} asked to change {guild_id}")
        if self.current not in self.contributors:
            self.contributors.append(self.current)

    async def set_paused(self, guild_id: int, paused: bool) -> None:
        self._check(guild_id)
        self._paused = paused

    async def set_volume(self, guild_id: int, percent: int) -> None:
        self._check(guild_id)
        self._volume = percent

    async def set_filters(self, guild_id: int, filters: Mapping[str, Any]) -> None:
        self._check(guild_id)
        self._filters = dict(filters)

    async def flush(self) -> list[int]:
        """Send what was recorded (one call per changed field, final values); the commands
        it was recorded for (their replies say so when a call fails)."""
        filters, volume, paused = self._filters, self._volume, self._paused
        contributors = self.contributors
        self._filters = self._volume = self._paused = None
        self.contributors = []
        if filters is not None:
            await self._players.set_filters(self.guild_id, filters)
        if volume is not None:
            await self._players.set_volume(self.guild_id, volume)
        if paused is not None:
            await self._players.set_paused(self.guild_id, paused)
        return contributors


#: The patch of the guild being finished by a batch in the current task, if any.
CURRENT_PATCH: ContextVar[PlayerPatch | None] = ContextVar("audio_player_patch", default=None)


def player_for(players: Players, guild_id: int) -> PlayerChanges:
    """Where a control's follow-up sends its change: the batch's patch of the guild, or the
    players at once."""
    patch = CURRENT_PATCH.get()
    if patch is not None and patch.guild_id == guild_id:
        return patch
    return players
