"""The discord.py bot: an ``AutoShardedBot`` without privileged intents.

It only receives what the gateway needs: guilds (channels, roles, the bot's voice state
after a restart), voice states (listener counts and the bot's own voice events) and
interactions. Shards come from ``BACKBEAT_SHARD_COUNT`` / ``BACKBEAT_SHARD_IDS``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import discord
from discord.ext import commands


def gateway_intents() -> discord.Intents:
    """Guilds and voice states: nothing privileged (no members, presences, message content)."""
    intents = discord.Intents.none()
    intents.guilds = True
    intents.voice_states = True
    return intents


class GatewayBot(commands.AutoShardedBot):
    """The bot; ``setup`` runs in discord.py's ``setup_hook`` (commands, listeners, sync)."""

    def __init__(
        self,
        *,
        shard_count: int | None,
        shard_ids: Sequence[int] | None,
        setup: Callable[[GatewayBot], Awaitable[None]],
        identify_delay_s: float | None = None,
        guild_ready_timeout_s: float = 2.0,
    ) -> None:
        sharding: dict[str, Any] = {"shard_count": shard_count}
        if shard_ids is not None:
            sharding["shard_ids"] = list(shard_ids)
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=gateway_intents(),
            **sharding,
            chunk_guilds_at_startup=False,
            guild_ready_timeout=guild_ready_timeout_s,
            help_command=None,
            max_messages=None,
        )
        self._setup = setup
        self._identify_delay_s = identify_delay_s

    async def setup_hook(self) -> None:
        await self._setup(self)

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """discord.py's pause between IDENTIFYs, or ``identify_delay_s`` when given."""
        if self._identify_delay_s is None:
            await super().before_identify_hook(shard_id, initial=initial)
        elif not initial and self._identify_delay_s > 0:
            await asyncio.sleep(self._identify_delay_s)
