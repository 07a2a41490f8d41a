"""Value types shared by several channels: Discord context, track summaries."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from backbeat.domain import limits
from backbeat.domain.guild_settings import AutoplayMode
from backbeat.domain.messages.envelope import Snowflake, Strict
from backbeat.domain.queue import LoopMode

__all__ = [
    "INTERACTION_TOKEN_LIFETIME_S",
    "AutoplayMode",
    "CommandSource",
    "DiscordContext",
    "InteractionRef",
    "Locale",
    "LoopMode",
    "TrackSummary",
]

#: Discord lets a bot use an interaction token for 15 minutes.
INTERACTION_TOKEN_LIFETIME_S = 15 * 60

CommandSource = Literal["discord", "panel"]
Locale = Annotated[str, Field(min_length=2, max_length=10, pattern=r"^[A-Za-z]{2,3}(-[A-Za-z]+)?$")]


class InteractionRef(Strict):
    """The interaction a command came from, usable for followups while fresh."""

    id: Snowflake
    token: str = Field(min_length=1, max_length=512, repr=False)
    application_id: Snowflake
    created_at: float = Field(description="Unix time the interaction was received, seconds.")

    def is_fresh(self, now: float) -> bool:
        """Whether the token may still be used (15 minutes after creation)."""
        return now - self.created_at < INTERACTION_TOKEN_LIFETIME_S


class DiscordContext(Strict):
    """Who asked, where, and how to answer them."""

    user_id: Snowflake
    locale: Locale = "en-US"
    text_channel_id: Snowflake | None = None
    voice_channel_id: Snowflake | None = None
    interaction: InteractionRef | None = None


class TrackSummary(Strict):
    """What the gateway needs to show a track (no Lavalink encoding needed to render)."""

    title: str = Field(max_length=limits.TRACK_TITLE)
    author: str = Field(max_length=limits.TRACK_AUTHOR)
    uri: str | None = Field(default=None, max_length=limits.TRACK_URI)
    identifier: str = Field(max_length=limits.TRACK_IDENTIFIER)
    source_name: str = Field(max_length=limits.TRACK_SOURCE_NAME)
    length_ms: int = Field(ge=0)
    is_stream: bool = False
    artwork_url: str | None = Field(default=None, max_length=limits.TRACK_ARTWORK_URL)
    encoded: str | None = Field(
        default=None,
        max_length=limits.TRACK_ENCODED,
        repr=False,
        description="Lavalink track string.",
    )
