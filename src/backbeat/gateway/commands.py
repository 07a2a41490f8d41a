"""The music slash commands. Each builds its bus command (typed, bounded options) and runs
the flow with its permission kind and rate-limit bucket.

Kinds (:class:`backbeat.domain.permissions.CommandKind`): adding and looking (``/play``,
``/playnext``, ``/search``, ``/queue``, ``/nowplaying``, ``/lyrics``) are for everyone,
``/voteskip`` for listeners, ``/skip`` for DJs and the requester, ``/summon`` and every
other control for DJs (everyone when no DJ role is set); all but looking need the user
where the bot plays.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import discord
from discord import app_commands

from backbeat.cache import CONTROL_BUCKET, PLAY_BUCKET, VIEW_BUCKET
from backbeat.domain.filters import preset_names
from backbeat.domain.messages import DiscordContext
from backbeat.domain.messages.commands import (
    MAX_QUERY_LENGTH,
    MAX_QUEUE_POSITION,
    MAX_VOLUME,
    Autoplay,
    AutoplayPayload,
    Clear,
    CommandEnvelope,
    Disconnect,
    Filters,
    FiltersPayload,
    Loop,
    LoopPayload,
    Lyrics,
    LyricsPayload,
    Move,
    MovePayload,
    NowPlaying,
    Pause,
    Play,
    PlayNext,
    PlayNow,
    Previous,
    QueryPayload,
    QueuePagePayload,
    QueueView,
    Remove,
    RemovePayload,
    Resume,
    Search,
    SearchPayload,
    Seek,
    Shuffle,
    Skip,
    SkipPayload,
    Stay,
    StayPayload,
    Stop,
    Summon,
    Volume,
    VolumePayload,
    VoteSkip,
)
from backbeat.domain.messages.common import AutoplayMode, LoopMode
from backbeat.domain.permissions import CommandKind
from backbeat.gateway.autocomplete import Autocomplete
from backbeat.gateway.flow import Build, CommandFlow
from backbeat.gateway.localization import choices
from backbeat.gateway.seek_input import parse_seek

AppCommand = app_commands.Command[Any, Any, Any]
Position = app_commands.Range[int, 1, MAX_QUEUE_POSITION]
QueryText = app_commands.Range[str, 1, MAX_QUERY_LENGTH]

SEARCH_RESULTS = 10
"""Tracks a ``/search`` offers in its select menu."""

_ON_OFF = choices("value", ["on", "off"])
_LOOP_MODES = choices("value.mode", [mode.value for mode in LoopMode])
_AUTOPLAY_MODES = choices("value.mode", [mode.value for mode in AutoplayMode])
_FILTERS = choices("choice.preset", preset_names()[:25])

#: Every command's name, in the order they are registered (the docs list them).
COMMAND_NAMES = (
    "play",
    "playnext",
    "playnow",
    "pause",
    "resume",
    "skip",
    "voteskip",
    "previous",
    "stop",
    "disconnect",
    "seek",
    "volume",
    "loop",
    "shuffle",
    "remove",
    "move",
    "clear",
    "queue",
    "nowplaying",
    "lyrics",
    "search",
    "filters",
    "autoplay",
    "summon",
    "247",
)


def _on(choice: app_commands.Choice[str] | None) -> bool | None:
    return None if choice is None else choice.value == "on"


def music_commands(flow: CommandFlow, suggest: Autocomplete) -> list[AppCommand]:
    """The commands, bound to ``flow``; add them to the bot's command tree."""

    async def control(interaction: discord.Interaction, build: Build) -> None:
        await flow.run(interaction, build, bucket=CONTROL_BUCKET, kind=CommandKind.CONTROL)

    def simple(kind: Callable[..., CommandEnvelope]) -> Build:
        return lambda g, c: kind(guild_id=g, context=c)

    def queries(
        name: str, description: str, kind: type[Play | PlayNext | PlayNow], control: bool
    ) -> AppCommand:
        @app_commands.command(name=name, description=description)
        @app_commands.describe(query="A song name or a link")
        @app_commands.guild_only()
        async def command(interaction: discord.Interaction, query: QueryText) -> None:
            def build(guild_id: int, context: DiscordContext) -> CommandEnvelope:
                return kind(guild_id=guild_id, context=context, payload=QueryPayload(query=query))

            await flow.run(
                interaction,
                build,
                bucket=PLAY_BUCKET,
                kind=CommandKind.CONTROL if control else CommandKind.LISTEN,
                needs_voice=True,
            )

        @command.autocomplete("query")
        async def suggestions(
            interaction: discord.Interaction, current: str
        ) -> list[app_commands.Choice[str]]:
            return await suggest(interaction, current)

        return command

    def bare(name: str, description: str, kind: Callable[..., CommandEnvelope]) -> AppCommand:
        """A control command without options (``/pause``, ``/stop``, ``/clear`` ...)."""

        @app_commands.command(name=name, description=description)
        @app_commands.guild_only()
        async def command(interaction: discord.Interaction) -> None:
            await control(interaction, simple(kind))

        return command

    play = queries("play", "Play a song or add it to the queue", Play, False)
    playnext = queries("playnext", "Queue a song to play next", PlayNext, False)
    playnow = queries("playnow", "Play a song now, before the queue", PlayNow, True)
    pause = bare("pause", "Pause the music", Pause)
    resume = bare("resume", "Resume the music", Resume)

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
            # Skipping past the current track skips other people's tracks too: control.
            kind=CommandKind.SKIP if count == 1 else CommandKind.CONTROL,
        )

    @app_commands.command(name="voteskip", description="Vote to skip the current track")
    @app_commands.guild_only()
    async def voteskip(interaction: discord.Interaction) -> None:
        await flow.run(interaction, simple(VoteSkip), bucket=CONTROL_BUCKET, kind=CommandKind.VOTE)

    previous = bare("previous", "Play the previous track again", Previous)
    stop = bare("stop", "Stop the music and clear the queue", Stop)
    disconnect = bare("disconnect", "Leave the voice channel (the queue is kept)", Disconnect)

    @app_commands.command(name="seek", description="Jump to a time in the track")
    @app_commands.describe(time="1:23 or 83 (to that time), +10 or -10 (seconds from here)")
    @app_commands.guild_only()
    async def seek(interaction: discord.Interaction, time: app_commands.Range[str, 1, 16]) -> None:
        payload = parse_seek(time)
        if payload is None:
            await flow.refuse(interaction, "seek.invalid")
            return
        await control(interaction, lambda g, c: Seek(guild_id=g, context=c, payload=payload))

    @app_commands.command(name="volume", description="Set the volume (100% leaves it unchanged)")
    @app_commands.describe(percent="0 to 200")
    @app_commands.guild_only()
    async def volume(
        interaction: discord.Interaction, percent: app_commands.Range[int, 0, MAX_VOLUME]
    ) -> None:
        await control(
            interaction,
            lambda g, c: Volume(guild_id=g, context=c, payload=VolumePayload(percent=percent)),
        )

    @app_commands.command(name="loop", description="Repeat the track or the queue")
    @app_commands.describe(mode="off, track or queue")
    @app_commands.choices(mode=_LOOP_MODES)
    @app_commands.guild_only()
    async def loop(interaction: discord.Interaction, mode: app_commands.Choice[str]) -> None:
        chosen = LoopMode(mode.value)
        await control(
            interaction, lambda g, c: Loop(guild_id=g, context=c, payload=LoopPayload(mode=chosen))
        )

    shuffle = bare("shuffle", "Shuffle the queue", Shuffle)

    @app_commands.command(name="remove", description="Remove a track from the queue")
    @app_commands.describe(position="Its position in /queue")
    @app_commands.guild_only()
    async def remove(interaction: discord.Interaction, position: Position) -> None:
        await control(
            interaction,
            lambda g, c: Remove(guild_id=g, context=c, payload=RemovePayload(position=position)),
        )

    @app_commands.command(name="move", description="Move a track in the queue")
    @app_commands.describe(from_position="Its position now", to_position="Where it goes")
    @app_commands.rename(from_position="from", to_position="to")
    @app_commands.guild_only()
    async def move(
        interaction: discord.Interaction, from_position: Position, to_position: Position
    ) -> None:
        payload = MovePayload(from_position=from_position, to_position=to_position)
        await control(interaction, lambda g, c: Move(guild_id=g, context=c, payload=payload))

    clear = bare("clear", "Clear the queue (the current track keeps playing)", Clear)

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
            kind=CommandKind.LISTEN,
        )

    @app_commands.command(name="nowplaying", description="Show what is playing")
    @app_commands.guild_only()
    async def nowplaying(interaction: discord.Interaction) -> None:
        await flow.run(interaction, simple(NowPlaying), bucket=VIEW_BUCKET, kind=CommandKind.LISTEN)

    @app_commands.command(
        name="lyrics", description="Show the lyrics, in step with the song when they are timed"
    )
    @app_commands.describe(query="A song (leave out: the one playing)")
    @app_commands.guild_only()
    async def lyrics(interaction: discord.Interaction, query: QueryText | None = None) -> None:
        payload = LyricsPayload(query=query)
        await flow.run(
            interaction,
            lambda g, c: Lyrics(guild_id=g, context=c, payload=payload),
            bucket=VIEW_BUCKET,
            kind=CommandKind.LISTEN,
        )

    @app_commands.command(name="search", description="Search and pick a track to queue")
    @app_commands.describe(query="What to look for")
    @app_commands.guild_only()
    async def search(interaction: discord.Interaction, query: QueryText) -> None:
        payload = SearchPayload(query=query, limit=SEARCH_RESULTS)
        await flow.run(
            interaction,
            lambda g, c: Search(guild_id=g, context=c, payload=payload),
            bucket=PLAY_BUCKET,
            kind=CommandKind.LISTEN,
            needs_voice=True,
        )

    @app_commands.command(name="filters", description="Apply an audio filter")
    @app_commands.describe(preset="The filter (off clears every filter)")
    @app_commands.choices(preset=_FILTERS)
    @app_commands.guild_only()
    async def filters(interaction: discord.Interaction, preset: app_commands.Choice[str]) -> None:
        payload = FiltersPayload(preset=preset.value)
        await control(interaction, lambda g, c: Filters(guild_id=g, context=c, payload=payload))

    @app_commands.command(
        name="autoplay", description="Keep playing similar music when the queue ends"
    )
    @app_commands.describe(enabled="on or off (leave out to toggle)", mode="How it picks")
    @app_commands.choices(enabled=_ON_OFF, mode=_AUTOPLAY_MODES)
    @app_commands.guild_only()
    async def autoplay(
        interaction: discord.Interaction,
        enabled: app_commands.Choice[str] | None = None,
        mode: app_commands.Choice[str] | None = None,
    ) -> None:
        payload = AutoplayPayload(
            enabled=_on(enabled), mode=AutoplayMode(mode.value) if mode else None
        )
        await control(interaction, lambda g, c: Autoplay(guild_id=g, context=c, payload=payload))

    @app_commands.command(name="summon", description="Bring the bot to your voice channel")
    @app_commands.guild_only()
    async def summon(interaction: discord.Interaction) -> None:
        await flow.run(
            interaction,
            simple(Summon),
            bucket=CONTROL_BUCKET,
            kind=CommandKind.SUMMON,
            needs_voice=True,
        )

    @app_commands.command(name="247", description="Stay in the voice channel around the clock")
    @app_commands.describe(enabled="on or off (leave out to toggle)")
    @app_commands.choices(enabled=_ON_OFF)
    @app_commands.guild_only()
    async def stay(
        interaction: discord.Interaction, enabled: app_commands.Choice[str] | None = None
    ) -> None:
        payload = StayPayload(enabled=_on(enabled))
        await control(interaction, lambda g, c: Stay(guild_id=g, context=c, payload=payload))

    commands = [
        play,
        playnext,
        playnow,
        pause,
        resume,
        skip,
        voteskip,
        previous,
        stop,
        disconnect,
        seek,
        volume,
        loop,
        shuffle,
        remove,
        move,
        clear,
        queue,
        nowplaying,
        lyrics,
        search,
        filters,
        autoplay,
        summon,
        stay,
    ]
    assert tuple(c.name for c in commands) == COMMAND_NAMES
    return commands
