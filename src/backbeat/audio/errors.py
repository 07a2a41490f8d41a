"""Errors of the audio service, under :class:`backbeat.errors.BackbeatError`.

AudioError
├── VoiceTimeoutError      the voice handshake did not complete in time
├── NoNodeAvailableError   no Lavalink node is connected
└── PlayerGoneError        the guild has no player (it was destroyed meanwhile)
"""

from __future__ import annotations

from backbeat.errors import BackbeatError


class AudioError(BackbeatError):
    """Base of the audio service's errors."""


class VoiceTimeoutError(AudioError):
    """Both voice events and Lavalink's ``connected`` did not arrive within the timeout."""

    def __init__(self, guild_id: int, channel_id: int, timeout_s: float) -> None:
        super().__init__(f"voice handshake for guild {guild_id} timed out after {timeout_s} s")
        self.guild_id = guild_id
        self.channel_id = channel_id
        self.timeout_s = timeout_s


class NoNodeAvailableError(AudioError):
    """No Lavalink node can take a player or a load request right now."""


class PlayerGoneError(AudioError):
    """The guild's player no longer exists."""

    def __init__(self, guild_id: int) -> None:
        super().__init__(f"guild {guild_id} has no player")
        self.guild_id = guild_id
