"""The discord.py bot: an ``AutoShardedBot`` without privileged intents.

It only receives what the gateway needs: guilds (channels, roles, the bot's voice state
after a restart), voice states (listener counts and the bot's own voice events) and
interactions. Shards come from ``BACKBEAT_SHARD_COUNT`` / ``BACKBEAT_SHARD_IDS``; each
IDENTIFY waits for its concurrency bucket's lease (:mod:`backbeat.gateway.identify`) instead
of discord.py's fixed 5-second sleep.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import discord
from discord.ext import commands

from backbeat.gateway.identify import IdentifyPacer


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
        pacer: IdentifyPacer,
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
        self.pacer = pacer

    async def setup_hook(self) -> None:
        await self._setup(self)

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """Wait for the shard's identify lease (also for a process's first shard: another
        process may have just identified one of the same bucket)."""
        await self.pacer.wait(shard_id or 0)

    async def max_concurrency(self) -> int:
        """``session_start_limit.max_concurrency`` of ``/gateway/bot``."""
        _, _, limit = await self.http.get_bot_gateway()
        return int(limit.get("max_concurrency", 1))
