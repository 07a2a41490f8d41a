"""Now-playing button clicks ("Button Interaction Flow"), dispatched by custom id.

Deferred at once (callback type 6), checked (the guild of the button, the clicker in the
bot's voice channel, the rate limit), shown disabled while in flight, then the command is
published; the next ``ui:now`` state re-renders the message with its buttons enabled.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol

import discord

from backbeat.cache import CONTROL_BUCKET, VIEW_BUCKET, RateDecision, RateLimiter
from backbeat.domain.messages import Channel, DiscordContext, Envelope, NowPlayingState
from backbeat.domain.messages.commands import (
    MAX_VOLUME,
    Autoplay,
    CommandEnvelope,
    Loop,
    LoopPayload,
    Pause,
    Previous,
    QueueView,
    Resume,
    Shuffle,
    Skip,
    Stop,
    Volume,
    VolumePayload,
)
from backbeat.domain.messages.common import LoopMode
from backbeat.errors import BackbeatError
from backbeat.gateway.context import discord_context, voice_channel_of
from backbeat.gateway.flow import slow_down
from backbeat.gateway.ops import ACK, FOLLOWUP, discord_operation
from backbeat.gateway.pending import Origin, PendingReplies
from backbeat.gateway.texts import SAME_VOICE, STALE_BUTTON, UNAVAILABLE
from backbeat.gateway.ui.buttons import Action, ButtonId
from backbeat.gateway.ui.manager import UiManager
from backbeat.gateway.voice import bot_channel
from backbeat.observability.logging import get_logger
from backbeat.observability.metrics import gateway_interaction_ack_seconds

_log = get_logger(__name__)

VOLUME_STEP = 10
_NEXT_LOOP = {
    LoopMode.OFF: LoopMode.TRACK,
    LoopMode.TRACK: LoopMode.QUEUE,
    LoopMode.QUEUE: LoopMode.OFF,
}


class Publisher(Protocol):
    async def publish(self, channel: Channel, message: Envelope) -> str: ...


def command_for(
    action: Action, guild_id: int, context: DiscordContext, state: NowPlayingState | None
) -> CommandEnvelope:
    """The bus command a button stands for, given the state the message shows."""
    common = {"guild_id": guild_id, "context": context}
    volume = state.volume if state is not None else 100
    simple: dict[Action, type[CommandEnvelope]] = {
        Action.PAUSE: Pause,
        Action.RESUME: Resume,
        Action.SKIP: Skip,
        Action.PREVIOUS: Previous,
        Action.STOP: Stop,
        Action.SHUFFLE: Shuffle,
        Action.QUEUE: QueueView,
        Action.AUTOPLAY: Autoplay,
    }
    if action in simple:
        return simple[action](**common)
    if action is Action.LOOP:
        mode = _NEXT_LOOP[state.loop] if state is not None else LoopMode.TRACK
        return Loop(**common, payload=LoopPayload(mode=mode))
    step = VOLUME_STEP if action is Action.VOLUME_UP else -VOLUME_STEP
    percent = min(MAX_VOLUME, max(0, volume + step))
    return Volume(**common, payload=VolumePayload(percent=percent))


class ButtonHandler:
    """Handles clicks on ``bb:<action>:<guild_id>`` buttons (from any message, any age)."""

    def __init__(
        self,
        bot: discord.Client,
        bus: Publisher,
        limiter: RateLimiter,
        pending: PendingReplies,
        ui: UiManager,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._bot = bot
        self._bus = bus
        self._limiter = limiter
        self._pending = pending
        self._ui = ui
        self._clock = clock

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        """discord.py's ``on_interaction`` listener; ignores everything but Backbeat buttons."""
        if interaction.type is not discord.InteractionType.component:
            return
        data: dict[str, Any] = dict(interaction.data or {})
        button = ButtonId.parse(str(data.get("custom_id", "")))
        if button is None:
            return
        started = time.perf_counter()
        received_at = self._clock()
        if button.guild_id != interaction.guild_id:
            async with discord_operation(ACK):
                await interaction.response.send_message(STALE_BUTTON, ephemeral=True)
            return
        try:
            async with discord_operation(ACK):
                await interaction.response.defer()
        except discord.HTTPException as error:
            _log.warning(
                "button click not acknowledged",
                guild_id=button.guild_id,
                interaction_id=interaction.id,
                status=error.status,
                code=error.code,
            )
            return
        gateway_interaction_ack_seconds.labels("component").observe(time.perf_counter() - started)
        await self._handle(interaction, button, received_at)

    async def _handle(
        self, interaction: discord.Interaction, button: ButtonId, received_at: float
    ) -> None:
        guild_id = button.guild_id
        context = discord_context(interaction, received_at=received_at)
        guild = interaction.guild
        bot_user = self._bot.user
        in_voice = bot_channel(guild, bot_user.id) if guild and bot_user else None
        if in_voice is not None and voice_channel_of(interaction) != in_voice.id:
            await self._tell(interaction, SAME_VOICE)
            return
        bucket = VIEW_BUCKET if button.action is Action.QUEUE else CONTROL_BUCKET
        try:
            decision = await self._limiter.hit(bucket, guild_id=guild_id, user_id=context.user_id)
        except BackbeatError as error:
            _log.warning("rate limit unavailable", guild_id=guild_id, error=str(error))
            decision = RateDecision(True)
        if not decision.allowed:
            await self._tell(interaction, slow_down(decision))
            return
        command = command_for(button.action, guild_id, context, self._ui.state_of(guild_id))
        self._pending.add(
            command.id, guild_id=guild_id, origin=Origin.BUTTON, interaction=interaction
        )
        if button.action is not Action.QUEUE:
            await self._ui.busy(guild_id, interaction.message)
        try:
            await self._bus.publish(Channel.COMMANDS, command)
        except Exception:
            _log.exception("button command not published", guild_id=guild_id)
            self._pending.pop(command.id)
            self._ui.refresh(guild_id)
            await self._tell(interaction, UNAVAILABLE)
            return
        _log.info(
            "button command published",
            guild_id=guild_id,
            type=command.type,
            request_id=command.id,
            message_id=interaction.message.id if interaction.message else None,
        )

    async def _tell(self, interaction: discord.Interaction, text: str) -> None:
        try:
            async with discord_operation(FOLLOWUP):
                await interaction.followup.send(text, ephemeral=True)
        except discord.HTTPException as error:
            _log.warning(
                "button followup failed", guild_id=interaction.guild_id, status=error.status
            )
