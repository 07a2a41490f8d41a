"""Now-playing button clicks ("Button Interaction Flow"), dispatched by custom id.

Deferred at once (callback type 6), checked (the guild of the button, the permission rules
of :mod:`backbeat.gateway.gate` as for the slash command it stands for, the rate limit),
shown disabled while in flight, then the command is published; its reply re-renders the
message with its buttons enabled. Refusals are ephemeral and say why, in the
clicker's locale.

"Not this track" / "not this artist" (only on a track autoplay chose) publish
``autoplay-reject`` for the track the message shows, with that scope; they count as skip
for the rules and as control for the rate limit, and their confirmation ("Autoplay will not
suggest … again") is told to the clicker, since the message cannot show it.

The reply components (queue page buttons, the search pick) are dispatched here too, by
their custom ids (:mod:`backbeat.gateway.menus`); their reply replaces their message.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol

import discord

from backbeat.cache import (
    CONTROL_BUCKET,
    PLAY_BUCKET,
    VIEW_BUCKET,
    RateDecision,
    RateLimiter,
    SettingsCache,
)
from backbeat.domain.guild_settings import GuildSettings
from backbeat.domain.i18n import Translator
from backbeat.domain.messages import Channel, DiscordContext, Envelope, NowPlayingState
from backbeat.domain.messages.commands import (
    MAX_VOLUME,
    Autoplay,
    AutoplayReject,
    AutoplayRejectPayload,
    CommandEnvelope,
    Loop,
    LoopPayload,
    Pause,
    Play,
    Previous,
    QueryPayload,
    QueuePagePayload,
    QueueView,
    Resume,
    Shuffle,
    Skip,
    Stop,
    Volume,
    VolumePayload,
)
from backbeat.domain.messages.common import LoopMode
from backbeat.domain.permissions import CommandKind
from backbeat.errors import BackbeatError
from backbeat.gateway.context import discord_context, locale_of
from backbeat.gateway.flow import slow_down
from backbeat.gateway.gate import Gate
from backbeat.gateway.menus import PickId, QueuePageId, parse_menu
from backbeat.gateway.ops import ACK, FOLLOWUP, discord_operation
from backbeat.gateway.pending import Origin, PendingReplies
from backbeat.gateway.ui.buttons import REJECT_SCOPES, Action, ButtonId
from backbeat.gateway.ui.manager import UiManager
from backbeat.observability.logging import get_logger
from backbeat.observability.metrics import gateway_interaction_ack_seconds

_log = get_logger(__name__)

VOLUME_STEP = 10
_NEXT_LOOP = {
    LoopMode.OFF: LoopMode.TRACK,
    LoopMode.TRACK: LoopMode.QUEUE,
    LoopMode.QUEUE: LoopMode.OFF,
}


#: What each button counts as for the permission rules.
BUTTON_KINDS: dict[Action, CommandKind] = {
    Action.QUEUE: CommandKind.LISTEN,
    Action.SKIP: CommandKind.SKIP,
    Action.NOT_THIS_TRACK: CommandKind.SKIP,
    Action.NOT_THIS_ARTIST: CommandKind.SKIP,
}


def kind_of(action: Action) -> CommandKind:
    return BUTTON_KINDS.get(action, CommandKind.CONTROL)


def rejectable(state: NowPlayingState | None) -> bool:
    """Whether "not this" applies to what plays: a track autoplay chose."""
    return (
        state is not None
        and state.track is not None
        and state.is_autoplay_track
        and bool(state.track.identifier)
    )


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
    if action in REJECT_SCOPES:
        if state is None or state.track is None or not rejectable(state):
            raise ValueError("not this: no autoplay track plays")
        payload = AutoplayRejectPayload(
            identifier=state.track.identifier, scope=REJECT_SCOPES[action]
        )
        return AutoplayReject(**common, payload=payload)
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
        gate: Gate,
        settings: SettingsCache,
        translator: Translator,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._bot = bot
        self._bus = bus
        self._limiter = limiter
        self._pending = pending
        self._ui = ui
        self._gate = gate
        self._settings = settings
        self._tr = translator
        self._clock = clock

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        """discord.py's ``on_interaction`` listener; ignores everything but Backbeat buttons."""
        if interaction.type is not discord.InteractionType.component:
            return
        data: dict[str, Any] = dict(interaction.data or {})
        custom_id = str(data.get("custom_id", ""))
        menu = parse_menu(custom_id)
        button = ButtonId.parse(custom_id)
        if button is None and menu is None:
            return
        started = time.perf_counter()
        received_at = self._clock()
        guild_id = button.guild_id if button is not None else menu.guild_id if menu else 0
        if guild_id != interaction.guild_id:
            async with discord_operation(ACK):
                await interaction.response.send_message(
                    self._tr(locale_of(interaction), "stale_button"), ephemeral=True
                )
            return
        try:
            async with discord_operation(ACK):
                await interaction.response.defer()
        except discord.HTTPException as error:
            _log.warning(
                "button click not acknowledged",
                guild_id=guild_id,
                interaction_id=interaction.id,
                status=error.status,
                code=error.code,
            )
            return
        gateway_interaction_ack_seconds.labels("component").observe(time.perf_counter() - started)
        if button is not None:
            await self._handle(interaction, button, received_at)
        elif menu is not None:
            await self._menu(interaction, menu, data, received_at)

    async def _allowed(
        self, interaction: discord.Interaction, kind: CommandKind, bucket: str
    ) -> bool:
        """The rules and the rate limit; a refusal is told to the clicker."""
        guild_id = interaction.guild_id
        assert guild_id is not None
        locale = locale_of(interaction)
        settings: GuildSettings | None = None
        try:
            settings = await self._settings.get(guild_id)
        except BackbeatError as error:
            _log.warning("settings unavailable", guild_id=guild_id, error=str(error))
        refusal = self._gate.check(interaction, kind, settings)
        if refusal is not None:
            _log.info("click refused", guild_id=guild_id, reason=refusal.denial.value)
            await self._tell(interaction, self._tr(locale, refusal.denial, **refusal.params))
            return False
        try:
            decision = await self._limiter.hit(
                bucket, guild_id=guild_id, user_id=interaction.user.id
            )
        except BackbeatError as error:
            _log.warning("rate limit unavailable", guild_id=guild_id, error=str(error))
            decision = RateDecision(True)
        if not decision.allowed:
            await self._tell(interaction, slow_down(self._tr, locale, decision))
            return False
        return True

    async def _menu(
        self,
        interaction: discord.Interaction,
        menu: QueuePageId | PickId,
        data: dict[str, Any],
        received_at: float,
    ) -> None:
        """A queue page button or a search pick: the command, answered in its message."""
        guild_id = menu.guild_id
        context = discord_context(interaction, received_at=received_at)
        command: CommandEnvelope
        if isinstance(menu, QueuePageId):
            if not await self._allowed(interaction, CommandKind.LISTEN, VIEW_BUCKET):
                return
            command = QueueView(
                guild_id=guild_id, context=context, payload=QueuePagePayload(page=menu.page)
            )
        else:
            values = [str(v) for v in data.get("values") or []]
            if not values or not values[0]:
                return
            if context.voice_channel_id is None:
                await self._tell(
                    interaction, self._tr(locale_of(interaction), "denied.not_in_voice")
                )
                return
            if not await self._allowed(interaction, CommandKind.LISTEN, PLAY_BUCKET):
                return
            command = Play(
                guild_id=guild_id, context=context, payload=QueryPayload(query=values[0])
            )
        self._pending.add(
            command.id, guild_id=guild_id, origin=Origin.MESSAGE, interaction=interaction
        )
        try:
            await self._bus.publish(Channel.COMMANDS, command)
        except Exception:
            _log.exception("menu command not published", guild_id=guild_id)
            self._pending.pop(command.id)
            await self._tell(interaction, self._tr(locale_of(interaction), "unavailable"))
            return
        _log.info(
            "menu command published", guild_id=guild_id, type=command.type, request_id=command.id
        )

    async def _handle(
        self, interaction: discord.Interaction, button: ButtonId, received_at: float
    ) -> None:
        guild_id = button.guild_id
        context = discord_context(interaction, received_at=received_at)
        bucket = VIEW_BUCKET if button.action is Action.QUEUE else CONTROL_BUCKET
        if button.action in REJECT_SCOPES and not rejectable(self._ui.state_of(guild_id)):
            # The message was older than the track now playing (a user's, or none).
            await self._tell(interaction, self._tr(locale_of(interaction), "autoplay.not_a_pick"))
            return
        if not await self._allowed(interaction, kind_of(button.action), bucket):
            return
        command = command_for(button.action, guild_id, context, self._ui.state_of(guild_id))
        self._pending.add(
            command.id, guild_id=guild_id, origin=Origin.BUTTON, interaction=interaction
        )
        if button.action is not Action.QUEUE:
            await self._ui.busy(guild_id, interaction.message, command.id)
        try:
            await self._bus.publish(Channel.COMMANDS, command)
        except Exception:
            _log.exception("button command not published", guild_id=guild_id)
            self._pending.pop(command.id)
            self._ui.refresh(guild_id, command.id)
            await self._tell(interaction, self._tr(locale_of(interaction), "unavailable"))
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
