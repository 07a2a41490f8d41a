"""The Discord context a command carries: who, where, and the interaction to answer."""

from __future__ import annotations

import re

import discord

from backbeat.domain.messages import DiscordContext, InteractionRef

_LOCALE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z]+)?$")
DEFAULT_LOCALE = "en-US"


def locale_of(interaction: discord.Interaction) -> str:
    """The user's locale as the schema accepts it (regional number codes fall back)."""
    value = str(getattr(interaction.locale, "value", interaction.locale) or "")
    return value if _LOCALE.fullmatch(value) else DEFAULT_LOCALE


def voice_channel_of(interaction: discord.Interaction) -> int | None:
    """The voice channel the user is in, from the guild's voice states."""
    user = interaction.user
    if isinstance(user, discord.Member) and user.voice is not None and user.voice.channel:
        return user.voice.channel.id
    return None


def discord_context(interaction: discord.Interaction, *, received_at: float) -> DiscordContext:
    """The command's context; ``received_at`` (Unix seconds) starts the token's 15 minutes."""
    return DiscordContext(
        user_id=interaction.user.id,
        locale=locale_of(interaction),
        text_channel_id=interaction.channel_id,
        voice_channel_id=voice_channel_of(interaction),
        interaction=InteractionRef(
            id=interaction.id,
            token=interaction.token,
            application_id=interaction.application_id,
            created_at=received_at,
        ),
    )
