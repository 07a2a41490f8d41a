"""Message schemas of the four bus channels, with the envelope they share.

``commands`` (gateway/panel → audio), ``to_audio`` (raw voice events, listener counts),
``to_discord`` (player events, op 4 requests, replies) and ``ui`` (now-playing snapshots).
:func:`decode` turns bytes into a message or a :class:`Rejection` and never raises.
"""

from backbeat.domain.messages.commands import Command, CommandEnvelope
from backbeat.domain.messages.common import DiscordContext, InteractionRef, TrackSummary
from backbeat.domain.messages.decode import (
    CHANNEL_TYPES,
    Rejection,
    RejectReason,
    channel_accepts,
    decode,
    encode,
)
from backbeat.domain.messages.envelope import (
    SCHEMA_VERSION,
    SUPPORTED_VERSIONS,
    Channel,
    Envelope,
    new_message_id,
)
from backbeat.domain.messages.to_audio import ToAudio
from backbeat.domain.messages.to_discord import ReplyTarget, ToDiscord
from backbeat.domain.messages.ui import NowPlayingState, UiMessage

__all__ = [
    "CHANNEL_TYPES",
    "SCHEMA_VERSION",
    "SUPPORTED_VERSIONS",
    "Channel",
    "Command",
    "CommandEnvelope",
    "DiscordContext",
    "Envelope",
    "InteractionRef",
    "NowPlayingState",
    "RejectReason",
    "Rejection",
    "ReplyTarget",
    "ToAudio",
    "ToDiscord",
    "TrackSummary",
    "UiMessage",
    "channel_accepts",
    "decode",
    "encode",
    "new_message_id",
]
