"""The seed's command flow: validate, acknowledge at once, check, publish.

1. Validate (a server, and a voice channel where the command needs one); a refusal is the
   acknowledgement itself.
2. Acknowledge with an ephemeral "Processing…" (Discord's 3-second deadline is never at risk:
   nothing is awaited before it).
3. Read the guild's ServerConfiguration through the shared cache, check the permission rules
   (:mod:`backbeat.gateway.gate`: DJ role, the bot's voice channel, the requester's skip),
   then count the use against the user's rate limit ("slow down, N s" when over).

Every text is in the user's locale (:class:`backbeat.domain.i18n.Translator`).
4. Publish the command with its Discord context on ``discord-bot:commands``; the correlated
   reply finishes the conversation (:mod:`backbeat.gateway.replies`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Protocol

import discord

from backbeat.cache import RateDecision, RateLimiter, SettingsCache
from backbeat.domain.guild_settings import GuildSettings
from backbeat.domain.i18n import Translator
from backbeat.domain.messages import Channel, DiscordContext, Envelope
from backbeat.domain.messages.commands import CommandEnvelope
from backbeat.domain.permissions import CommandKind, Denial
from backbeat.errors import BackbeatError
from backbeat.gateway.context import discord_context, locale_of
from backbeat.gateway.gate import Gate
from backbeat.gateway.ops import ACK, EDIT_ORIGINAL, discord_operation
from backbeat.gateway.pending import Origin, PendingReplies
from backbeat.observability.logging import get_logger
from backbeat.observability.metrics import gateway_interaction_ack_seconds

_log = get_logger(__name__)

Build = Callable[[int, DiscordContext], CommandEnvelope]
"""Makes the command from the guild id and the context."""


class Publisher(Protocol):
    async def publish(self, channel: Channel, message: Envelope) -> str: ...


def slow_down(tr: Translator, locale: str, decision: RateDecision) -> str:
    return tr(locale, "slow_down", seconds=max(1, math.ceil(decision.retry_after_s)))


class CommandFlow:
    """Runs slash commands through the flow above."""

    def __init__(
        self,
        bus: Publisher,
        settings: SettingsCache,
        limiter: RateLimiter,
        pending: PendingReplies,
        *,
        gate: Gate,
        translator: Translator,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._bus = bus
        self._settings = settings
        self._limiter = limiter
        self._pending = pending
        self._gate = gate
        self.tr = translator
        self._clock = clock

    async def refuse(self, interaction: discord.Interaction, key: str, **params: str) -> None:
        """Answer at once with a (localised) refusal; nothing is published."""
        text = self.tr(locale_of(interaction), key, **params)
        await self._ack(interaction, text, time.perf_counter())

    async def run(
        self,
        interaction: discord.Interaction,
        build: Build,
        *,
        bucket: str,
        kind: CommandKind,
        needs_voice: bool = False,
    ) -> CommandEnvelope | None:
        """The whole flow for one slash command; the published command, or None."""
        started = time.perf_counter()
        received_at = self._clock()
        guild_id = interaction.guild_id
        locale = locale_of(interaction)
        if guild_id is None:
            await self._ack(interaction, self.tr(locale, "guild_only"), started)
            return None
        context = discord_context(interaction, received_at=received_at)
        if needs_voice and context.voice_channel_id is None:
            await self._ack(interaction, self.tr(locale, Denial.NOT_IN_VOICE), started)
            return None
        if not await self._ack(interaction, self.tr(locale, "processing"), started):
            return None  # the user saw "interaction failed": nothing is done on their behalf
        settings: GuildSettings | None = None
        try:
            settings = await self._settings.get(guild_id)
        except BackbeatError as error:
            # The cache or the database is down: let the command through, audio decides.
            _log.warning("settings unavailable", guild_id=guild_id, error=str(error))
        refusal = self._gate.check(interaction, kind, settings, needs_voice=needs_voice)
        if refusal is not None:
            _log.info(
                "command refused",
                guild_id=guild_id,
                interaction_id=interaction.id,
                reason=refusal.denial.value,
            )
            await self._edit(interaction, self.tr(locale, refusal.denial, **refusal.params))
            return None
        try:
            decision = await self._limiter.hit(bucket, guild_id=guild_id, user_id=context.user_id)
        except BackbeatError as error:
            _log.warning("rate limit unavailable", guild_id=guild_id, error=str(error))
            decision = RateDecision(True)
        if not decision.allowed:
            await self._edit(interaction, slow_down(self.tr, locale, decision))
            return None
        command = build(guild_id, context)
        self._pending.add(
            command.id, guild_id=guild_id, origin=Origin.SLASH, interaction=interaction
        )
        try:
            await self._bus.publish(Channel.COMMANDS, command)
        except Exception:
            _log.exception("command not published", guild_id=guild_id, type=command.type)
            self._pending.pop(command.id)
            await self._edit(interaction, self.tr(locale, "unavailable"))
            return None
        _log.info(
            "command published",
            guild_id=guild_id,
            type=command.type,
            request_id=command.id,
            interaction_id=interaction.id,
        )
        return command

    async def _ack(self, interaction: discord.Interaction, text: str, started: float) -> bool:
        try:
            async with discord_operation(ACK):
                await interaction.response.send_message(text, ephemeral=True)
        except discord.HTTPException as error:
            _log.warning(
                "interaction not acknowledged",
                guild_id=interaction.guild_id,
                interaction_id=interaction.id,
                status=error.status,
                code=error.code,
            )
            return False
        gateway_interaction_ack_seconds.labels("command").observe(time.perf_counter() - started)
        return True

    async def _edit(self, interaction: discord.Interaction, text: str) -> None:
        try:
            async with discord_operation(EDIT_ORIGINAL):
                await interaction.edit_original_response(content=text)
        except discord.HTTPException as error:
            _log.warning("response edit failed", guild_id=interaction.guild_id, status=error.status)
