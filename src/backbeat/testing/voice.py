"""The link between the two emulators: voice credentials the Discord emulator issues.

When the bot asks to join voice (gateway op 4), the Discord emulator issues a voice session
id, token and endpoint and records them here. The Lavalink emulator, given the same registry
(in-process) or the Discord emulator's control URL (``GET /_control/voice/credentials``),
marks a player ``connected`` only when the voice state a client PATCHed matches what was
issued, as a real voice server would refuse a forged token.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class VoiceCredentials:
    """What Discord hands a bot for one voice connection."""

    guild_id: int
    user_id: int
    channel_id: int
    session_id: str
    token: str
    endpoint: str

    def to_json(self) -> dict[str, object]:
        """JSON-ready form, ids as strings as Discord writes snowflakes."""
        data = asdict(self)
        for key in ("guild_id", "user_id", "channel_id"):
            data[key] = str(data[key])
        return data


class VoiceCredentialRegistry:
    """Thread-safe record of the credentials currently valid, per (guild, user)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._current: dict[tuple[int, int], VoiceCredentials] = {}

    def issue(self, credentials: VoiceCredentials) -> None:
        """Record credentials; they replace any earlier ones of the same guild and user."""
        with self._lock:
            self._current[(credentials.guild_id, credentials.user_id)] = credentials

    def revoke(self, guild_id: int, user_id: int) -> None:
        """Forget a user's credentials in a guild (they left voice)."""
        with self._lock:
            self._current.pop((guild_id, user_id), None)

    def get(self, guild_id: int, user_id: int) -> VoiceCredentials | None:
        """The credentials valid now, if any."""
        with self._lock:
            return self._current.get((guild_id, user_id))

    def all(self) -> list[VoiceCredentials]:
        """Every valid credential set."""
        with self._lock:
            return list(self._current.values())

    def verify(
        self,
        *,
        guild_id: int,
        user_id: int,
        session_id: str,
        token: str,
        endpoint: str,
        channel_id: int | None,
    ) -> bool:
        """True when a client presents exactly what was issued to this guild and user."""
        issued = self.get(guild_id, user_id)
        return (
            issued is not None
            and issued.session_id == session_id
            and issued.token == token
            and issued.endpoint == endpoint
            and (channel_id is None or issued.channel_id == channel_id)
        )
