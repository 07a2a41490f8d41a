"""The ``to-discord`` consumer's handler: op 4 requests, replies, suggestions, player events."""

from __future__ import annotations

from backbeat.bus.interface import Delivery
from backbeat.domain.messages.to_discord import Suggestions, VoiceJoin, VoiceLeave
from backbeat.gateway.autocomplete import Autocomplete
from backbeat.gateway.pending import Origin, PendingReplies
from backbeat.gateway.replies import REPLY_TYPES, ReplySender
from backbeat.gateway.ui.manager import UiManager
from backbeat.gateway.voice import VoiceForwarder
from backbeat.observability.logging import get_logger

_log = get_logger(__name__)


class ToDiscordHandler:
    """Routes each ``to-discord`` message to the part of the gateway that carries it out."""

    def __init__(
        self,
        voice: VoiceForwarder,
        replies: ReplySender,
        autocomplete: Autocomplete,
        pending: PendingReplies,
        ui: UiManager,
    ) -> None:
        self._voice = voice
        self._replies = replies
        self._autocomplete = autocomplete
        self._pending = pending
        self._ui = ui

    async def __call__(self, delivery: Delivery) -> None:
        message = delivery.message
        if isinstance(message, VoiceJoin):
            payload = message.payload
            await self._voice.join(
                message.guild_id,
                payload.channel_id,
                self_deaf=payload.self_deaf,
                self_mute=payload.self_mute,
            )
        elif isinstance(message, VoiceLeave):
            await self._voice.leave(message.guild_id)
        elif isinstance(message, Suggestions):
            entry = self._pending.pop(message.correlation_id)
            if entry is not None:
                self._autocomplete.resolve(entry, message)
        elif isinstance(message, REPLY_TYPES):
            entry = await self._replies.deliver(message)
            if entry is not None and entry.origin is Origin.BUTTON:
                self._ui.refresh(message.guild_id, entry.command_id)
            elif entry is not None and entry.origin is Origin.AUTOCOMPLETE:
                self._autocomplete.refused(entry)
        else:
            # Player events: the now-playing message follows ui:now states, not these.
            _log.debug("player event", guild_id=message.guild_id, type=message.type)
