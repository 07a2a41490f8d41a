"""Who may run a command: the domain's rules (:mod:`backbeat.domain.permissions`) applied to
what an interaction tells about its member, the bot's voice channel and the playing track."""

from __future__ import annotations

from dataclasses import dataclass

import discord

from backbeat.domain.guild_settings import GuildSettings
from backbeat.domain.permissions import (
    CommandKind,
    Denial,
    Member,
    Situation,
    check_command,
)
from backbeat.gateway.context import voice_channel_of
from backbeat.gateway.ui.manager import UiManager
from backbeat.gateway.voice import bot_channel
from backbeat.observability.metrics import gateway_command_refusals_total

Param = str | int | float | bool


@dataclass(frozen=True, slots=True)
class Refusal:
    """A denial with the values its text needs."""

    denial: Denial
    params: dict[str, Param]


def member_of(interaction: discord.Interaction) -> Member:
    """The rules' view of the member: roles, permissions (Discord's, already resolved for
    the channel) and whether they own the guild."""
    user = interaction.user
    roles = frozenset(role.id for role in getattr(user, "roles", ()))
    guild = interaction.guild
    owner = guild is not None and guild.owner_id == user.id
    return Member(
        user_id=user.id, role_ids=roles, permissions=interaction.permissions.value, owner=owner
    )


class Gate:
    """Checks an interaction against the rules; the bot's channel and the current track's
    requester come from the guild cache and the last now-playing state."""

    def __init__(self, bot: discord.Client, ui: UiManager) -> None:
        self._bot = bot
        self._ui = ui

    def bot_voice_channel_id(self, interaction: discord.Interaction) -> int | None:
        guild = interaction.guild
        user = self._bot.user
        if guild is None or user is None:
            return None
        channel = bot_channel(guild, user.id)
        return channel.id if channel is not None else None

    def check(
        self,
        interaction: discord.Interaction,
        kind: CommandKind,
        settings: GuildSettings | None,
        *,
        needs_voice: bool = False,
    ) -> Refusal | None:
        """None when allowed. Without settings (cache and database down) the DJ role is
        unknown: control is let through and audio still decides."""
        guild_id = interaction.guild_id
        state = self._ui.state_of(guild_id) if guild_id is not None else None
        bot_voice = self.bot_voice_channel_id(interaction)
        situation = Situation(
            user_voice_channel_id=voice_channel_of(interaction),
            bot_voice_channel_id=bot_voice,
            requester_id=state.requester_id if state is not None and state.track else None,
        )
        dj_role_id = settings.dj_role_id if settings is not None else None
        denial = check_command(
            member_of(interaction), kind, situation, dj_role_id=dj_role_id, needs_voice=needs_voice
        )
        if denial is None:
            return None
        gateway_command_refusals_total.labels(denial.name.lower()).inc()
        params: dict[str, Param] = {}
        if denial is Denial.OTHER_CHANNEL and bot_voice is not None:
            params["channel_id"] = str(bot_voice)
        if denial is Denial.DJ_ONLY and dj_role_id is not None:
            params["role_id"] = str(dj_role_id)
        return Refusal(denial, params)
