"""The music slash commands: ``/play``, ``/pause``, ``/resume``, ``/skip``, ``/stop``,
``/queue``, ``/nowplaying``, ``/volume``. Each one builds its bus command and runs the flow."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands

from backbeat.cache import CONTROL_BUCKET, PLAY_BUCKET, VIEW_BUCKET
from backbeat.domain.messages import DiscordContext
from backbeat.domain.messages.commands import (
    MAX_QUERY_LENGTH,
    MAX_VOLUME,
    NowPlaying,
    Pause,
    Play,
    QueryPayload,
    QueuePagePayload,
    QueueView,
    Resume,
    Skip,
    SkipPayload,
    Stop,
    Volume,
    VolumePayload,
)
from backbeat.gateway.autocomplete import Autocomplete
from backbeat.gateway.flow import CommandFlow

AppCommand = app_commands.Command[Any, Any, Any]


def music_commands(flow: CommandFlow, suggest: Autocomplete) -> list[AppCommand]:
    """The commands, bound to ``flow``; add them to the bot's command tree."""

    @app_commands.command(name="play", description="Play a song or add it to the queue")
    @app_commands.describe(query="A song name or a link")
    @app_commands.guild_only()
    async def play(
        interaction: discord.Interaction,
        query: app_commands.Range[str, 1, MAX_QUERY_LENGTH],
    ) -> None:
        def build(guild_id: int, context: DiscordContext) -> Play:
            return Play(guild_id=guild_id, context=context, payload=QueryPayload(query=query))

        await flow.run(interaction, build, bucket=PLAY_BUCKET, needs_voice=True)

    @play.autocomplete("query")
    async def play_suggestions(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await suggest(interaction, current)

    @app_commands.command(name="pause", description="Pause the music")
    @app_commands.guild_only()
    async def pause(interaction: discord.Interaction) -> None:
        await flow.run(
            interaction, lambda g, c: Pause(guild_id=g, context=c), bucket=CONTROL_BUCKET
        )

    @app_commands.command(name="resume", description="Resume the music")
    @app_commands.guild_only()
    async def resume(interaction: discord.Interaction) -> None:
        await flow.run(
            interaction, lambda g, c: Resume(guild_id=g, context=c), bucket=CONTROL_BUCKET
        )

    @app_commands.command(name="skip", description="Skip the current track")
    @app_commands.describe(count="How many tracks to skip (1 = only this one)")
    @app_commands.guild_only()
    async def skip(
        interaction: discord.Interaction, count: app_commands.Range[int, 1, 100] = 1
    ) -> None:
        await flow.run(
            interaction,
            lambda g, c: Skip(guild_id=g, context=c, payload=SkipPayload(count=count)),
            bucket=CONTROL_BUCKET,
        )

    @app_commands.command(name="stop", description="Stop the music and clear the queue")
    @app_commands.guild_only()
    async def stop(interaction: discord.Interaction) -> None:
        await flow.run(interaction, lambda g, c: Stop(guild_id=g, context=c), bucket=CONTROL_BUCKET)

    @app_commands.command(name="queue", description="Show the queue")
    @app_commands.describe(page="Which page")
    @app_commands.guild_only()
    async def queue(
        interaction: discord.Interaction, page: app_commands.Range[int, 1, 10_000] = 1
    ) -> None:
        await flow.run(
            interaction,
            lambda g, c: QueueView(guild_id=g, context=c, payload=QueuePagePayload(page=page)),
            bucket=VIEW_BUCKET,
        )

    @app_commands.command(name="nowplaying", description="Show what is playing")
    @app_commands.guild_only()
    async def nowplaying(interaction: discord.Interaction) -> None:
        await flow.run(
            interaction, lambda g, c: NowPlaying(guild_id=g, context=c), bucket=VIEW_BUCKET
        )

    @app_commands.command(name="volume", description="Set the volume (100% leaves it unchanged)")
    @app_commands.describe(percent="0 to 200")
    @app_commands.guild_only()
    async def volume(
        interaction: discord.Interaction, percent: app_commands.Range[int, 0, MAX_VOLUME]
    ) -> None:
        await flow.run(
            interaction,
            lambda g, c: Volume(guild_id=g, context=c, payload=VolumePayload(percent=percent)),
            bucket=CONTROL_BUCKET,
        )

    return [play, pause, resume, skip, stop, queue, nowplaying, volume]
