"""The envelope every bus message shares: version, id, type, guild, time, correlation.

Ids are 32 hex characters: 12 of milliseconds since the epoch, then 20 random ones, so they
are unique, sort by creation time and make duplicate deliveries recognisable.
"""

from __future__ import annotations

import secrets
import time
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from backbeat.domain import limits

#: The schema version this code writes; :data:`SUPPORTED_VERSIONS` are those it reads.
SCHEMA_VERSION = 1
SUPPORTED_VERSIONS: frozenset[int] = frozenset({1})

#: Discord snowflakes are positive 64-bit integers.
Snowflake = Annotated[int, Field(gt=0, lt=2**64)]
MessageId = Annotated[
    str,
    Field(
        min_length=limits.MESSAGE_ID,
        max_length=limits.MESSAGE_ID,
        pattern=rf"^[0-9a-f]{{{limits.MESSAGE_ID}}}$",
    ),
]


class Channel(StrEnum):
    """The four bus channels; the values are the wire names."""

    COMMANDS = "discord-bot:commands"
    TO_AUDIO = "discord-bot:to-audio"
    TO_DISCORD = "discord-bot:to-discord"
    UI_NOW = "discord-bot:ui:now"


def new_message_id() -> str:
    """A unique, time-sortable message id."""
    return f"{time.time_ns() // 1_000_000:012x}{secrets.token_hex(10)}"


class Strict(BaseModel):
    """Base of every schema model: immutable, unknown fields refused."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Envelope(Strict):
    """Fields common to every message. Subclasses pin ``type`` and type the ``payload``."""

    v: int = SCHEMA_VERSION
    id: MessageId = Field(default_factory=new_message_id)
    type: str
    guild_id: Snowflake
    ts: float = Field(default_factory=time.time, description="Unix time of creation, seconds.")
    correlation_id: MessageId | None = Field(
        default=None, description="The id of the request this message answers or follows from."
    )

    def reply_fields(self) -> dict[str, object]:
        """Envelope fields for a message answering this one (same guild, correlated)."""
        return {"guild_id": self.guild_id, "correlation_id": self.correlation_id or self.id}
