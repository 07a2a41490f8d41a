"""``/play`` autocomplete: audio's ``suggestions`` within a budget, else the gateway's own.

The gateway publishes a ``suggest`` command and waits for the correlated ``suggestions``
reply for at most the budget (2.5 s from receipt, Discord allows 3). When audio is late it
answers with the choices it last saw for the same text in that guild, or none, and never
late; a late reply still fills that memory for next time.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol

import discord
from discord import app_commands

from backbeat.domain.messages import Channel, Envelope
from backbeat.domain.messages.commands import Suggest, SuggestPayload
from backbeat.domain.messages.to_discord import Choice, Suggestions
from backbeat.gateway.context import discord_context
from backbeat.gateway.pending import Origin, Pending, PendingReplies
from backbeat.observability.logging import get_logger

_log = get_logger(__name__)

_MEMORY = 2_000


class Publisher(Protocol):
    async def publish(self, channel: Channel, message: Envelope) -> str: ...


def _key(guild_id: int, partial: str) -> tuple[int, str]:
    return guild_id, partial.strip().lower()


class Autocomplete:
    """Answers ``/play`` autocomplete interactions."""

    def __init__(
        self,
        bus: Publisher,
        pending: PendingReplies,
        *,
        budget_s: float = 2.5,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._bus = bus
        self._pending = pending
        self._budget_s = budget_s
        self._clock = clock
        self._wall_clock = wall_clock
        self._memory: OrderedDict[tuple[int, str], list[Choice]] = OrderedDict()
        self.late = 0
        """Autocompletes answered by the gateway because audio was late."""

    async def __call__(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        started = self._clock()
        guild_id = interaction.guild_id
        if guild_id is None:
            return []
        partial = current[:100]
        command = Suggest(
            guild_id=guild_id,
            context=discord_context(interaction, received_at=self._wall_clock()),
            payload=SuggestPayload(partial=partial),
        )
        entry = self._pending.add(
            command.id,
            guild_id=guild_id,
            origin=Origin.AUTOCOMPLETE,
            interaction=None,
            partial=partial,
        )
        assert entry.suggestions is not None
        try:
            await self._bus.publish(Channel.COMMANDS, command)
        except Exception:
            _log.exception("suggest not published", guild_id=guild_id)
            self._pending.pop(command.id)
            return self._remembered(guild_id, partial)
        remaining = self._budget_s - (self._clock() - started)
        try:
            reply = await asyncio.wait_for(asyncio.shield(entry.suggestions), max(0, remaining))
        except TimeoutError:
            self.late += 1
            _log.info("autocomplete answered without audio", guild_id=guild_id)
            return self._remembered(guild_id, partial)
        if reply is None:  # audio answered with an error instead of suggestions
            return self._remembered(guild_id, partial)
        return _choices(reply.payload.choices)

    def resolve(self, entry: Pending, reply: Suggestions) -> None:
        """A ``suggestions`` reply arrived for ``entry`` (in time or late)."""
        key = _key(entry.guild_id, entry.partial)
        self._memory[key] = list(reply.payload.choices)
        self._memory.move_to_end(key)
        while len(self._memory) > _MEMORY:
            self._memory.popitem(last=False)
        future = entry.suggestions
        if future is not None and not future.done():
            future.set_result(reply)

    def refused(self, entry: Pending) -> None:
        """Audio answered ``entry`` with an error: answer at once from memory."""
        future = entry.suggestions
        if future is not None and not future.done():
            future.set_result(None)

    def _remembered(self, guild_id: int, partial: str) -> list[app_commands.Choice[str]]:
        return _choices(self._memory.get(_key(guild_id, partial), []))


def _choices(choices: list[Choice]) -> list[app_commands.Choice[str]]:
    return [app_commands.Choice(name=c.name, value=c.value) for c in choices[:25]]
