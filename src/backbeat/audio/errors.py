"""Errors of the audio service, under :class:`backbeat.errors.BackbeatError`.

AudioError
├── VoiceTimeoutError      the voice handshake did not complete in time
├── NoNodeAvailableError   no Lavalink node is connected
├── PlayerGoneError        the guild has no player (it was destroyed meanwhile)
├── LavalinkRequestError   a node refused a request (HTTP 4xx/5xx) or could not be reached
└── CommandRefusedError    a command cannot be carried out as asked (answered to the user)
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


class LavalinkRequestError(AudioError):
    """A node answered a REST request with an error, or could not be reached.

    ``status`` is the HTTP status, None when no answer came (refused, reset, timed out);
    ``message`` is Lavalink's own ``message`` field when it sent one.
    """

    def __init__(self, node: str, method: str, path: str, status: int | None, message: str) -> None:
        what = f"HTTP {status}" if status is not None else "unreachable"
        super().__init__(f"lavalink node {node}: {method} {path}: {what}: {message}")
        self.node = node
        self.method = method
        self.path = path
        self.status = status
        self.message = message


class CommandRefusedError(AudioError):
    """A command the processor refuses: ``code`` is the stable message key of the error
    reply, ``message`` English for logs, ``params`` fill the user's translated text."""

    def __init__(self, code: str, message: str, /, **params: str | int | float | bool) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.params = params
