"""Whether a voice state a client PATCHed would be accepted by Discord's voice server.

Without a link to the Discord emulator every complete voice state connects. Linked through an
in-process :class:`~backbeat.testing.voice.VoiceCredentialRegistry`, or through the Discord
emulator's control URL (``GET {url}/voice/credentials``: a JSON list of
``VoiceCredentials.to_json()``), only credentials issued to that guild and user connect.
"""

from __future__ import annotations

from typing import Protocol

import aiohttp

from backbeat.observability.logging import get_logger
from backbeat.testing.lavalink.player import VoiceState
from backbeat.testing.voice import VoiceCredentialRegistry

_log = get_logger(__name__)


class VoiceVerifier(Protocol):
    """Decides whether a voice state may connect."""

    async def verify(self, guild_id: int, user_id: int, voice: VoiceState) -> bool:
        """True when Discord would accept these credentials for this guild and user."""
        ...


class AcceptAnyVoice:
    """No Discord emulator linked: any complete voice state connects."""

    async def verify(self, guild_id: int, user_id: int, voice: VoiceState) -> bool:
        return True


def _channel(voice: VoiceState) -> int | None:
    try:
        return int(voice.channel_id)
    except ValueError:
        return -1


class RegistryVoiceVerifier:
    """Accepts only credentials recorded in an in-process registry."""

    def __init__(self, registry: VoiceCredentialRegistry) -> None:
        self._registry = registry

    async def verify(self, guild_id: int, user_id: int, voice: VoiceState) -> bool:
        return self._registry.verify(
            guild_id=guild_id,
            user_id=user_id,
            session_id=voice.session_id,
            token=voice.token,
            endpoint=voice.endpoint,
            channel_id=_channel(voice),
        )


class DiscordControlVoiceVerifier:
    """Asks the Discord emulator's control API which credentials it issued."""

    def __init__(self, control_url: str, timeout_seconds: float = 5.0) -> None:
        self._url = control_url.rstrip("/") + "/voice/credentials"
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)

    async def verify(self, guild_id: int, user_id: int, voice: VoiceState) -> bool:
        try:
            async with (
                aiohttp.ClientSession(timeout=self._timeout) as http,
                http.get(self._url) as response,
            ):
                response.raise_for_status()
                issued = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            _log.warning("lavalink_emulator.voice_credentials_unreachable", error=str(exc))
            return False
        if not isinstance(issued, list):
            return False
        for item in issued:
            if not isinstance(item, dict):
                continue
            if (
                str(item.get("guild_id")) == str(guild_id)
                and str(item.get("user_id")) == str(user_id)
                and item.get("session_id") == voice.session_id
                and item.get("token") == voice.token
                and item.get("endpoint") == voice.endpoint
                and str(item.get("channel_id")) == voice.channel_id
            ):
                return True
        return False
