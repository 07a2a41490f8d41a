"""``discord-bot:to-audio``: raw voice events and listener counts from the gateway to audio.

Voice events carry Discord's ``d`` object untouched, so audio can hand them to its Lavalink
client exactly as the gateway received them.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, field_validator

from backbeat.domain.messages.envelope import Envelope, Snowflake, Strict


def _require(data: dict[str, Any], keys: tuple[str, ...], event: str) -> dict[str, Any]:
    missing = [key for key in keys if key not in data]
    if missing:
        raise ValueError(f"{event} data lacks {', '.join(missing)}")
    return data


class VoiceStatePayload(Strict):
    data: dict[str, Any]

    @field_validator("data")
    @classmethod
    def _check(cls, value: dict[str, Any]) -> dict[str, Any]:
        return _require(value, ("session_id", "user_id", "channel_id"), "VOICE_STATE_UPDATE")


class VoiceServerPayload(Strict):
    data: dict[str, Any]

    @field_validator("data")
    @classmethod
    def _check(cls, value: dict[str, Any]) -> dict[str, Any]:
        return _require(value, ("token", "endpoint"), "VOICE_SERVER_UPDATE")


class ListenerCountPayload(Strict):
    """Non-bot members in the bot's voice channel (None: the bot is in no channel)."""

    channel_id: Snowflake | None
    listeners: int = Field(ge=0)


class GuildDeletePayload(Strict):
    """The bot was removed from the guild (GUILD_DELETE without ``unavailable``)."""


class VoiceStateUpdate(Envelope):
    type: Literal["VOICE_STATE_UPDATE"] = "VOICE_STATE_UPDATE"
    payload: VoiceStatePayload


class VoiceServerUpdate(Envelope):
    type: Literal["VOICE_SERVER_UPDATE"] = "VOICE_SERVER_UPDATE"
    payload: VoiceServerPayload


class ListenerCount(Envelope):
    type: Literal["listener-count"] = "listener-count"
    payload: ListenerCountPayload


class GuildDelete(Envelope):
    """The bot left or was removed from the guild: audio ends the guild's session."""

    type: Literal["GUILD_DELETE"] = "GUILD_DELETE"
    payload: GuildDeletePayload = GuildDeletePayload()


ToAudio = Annotated[
    VoiceStateUpdate | VoiceServerUpdate | ListenerCount | GuildDelete,
    Field(discriminator="type"),
]
