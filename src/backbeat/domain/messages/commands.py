"""``discord-bot:commands``: music commands from the gateway or the panel to audio.

Each command is one class with its ``type`` and a validated payload. Volume is a percentage
0..200 end to end: the user's percentage is Lavalink's ``volume`` (100 = unchanged);
positions in the queue count from 1 as users see them.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from backbeat.domain import limits
from backbeat.domain.messages.common import (
    AutoplayMode,
    CommandSource,
    DiscordContext,
    LoopMode,
)
from backbeat.domain.messages.envelope import Envelope, Strict

MAX_QUERY_LENGTH = limits.QUERY
MAX_VOLUME = 200
MAX_QUEUE_POSITION = 100_000

Query = Annotated[str, Field(min_length=1, max_length=MAX_QUERY_LENGTH)]
QueuePosition = Annotated[int, Field(ge=1, le=MAX_QUEUE_POSITION)]


class NoPayload(Strict):
    """Payload of commands that need nothing beyond their context."""


class QueryPayload(Strict):
    """A search query or URL; ``source`` picks a search provider (``ytsearch``, ``scsearch``…)."""

    query: Query
    source: str | None = Field(default=None, pattern=r"^[a-z0-9]{1,32}$")


class SkipPayload(Strict):
    count: int = Field(default=1, ge=1, le=MAX_QUEUE_POSITION)


class SeekPayload(Strict):
    """Seek to ``position_ms`` (absolute) or by ``offset_ms`` from the current position
    (relative: ``+10`` / ``-10`` seconds); exactly one of them is given."""

    position_ms: int | None = Field(default=None, ge=0)
    offset_ms: int | None = Field(default=None, ge=-86_400_000, le=86_400_000)

    @model_validator(mode="after")
    def _one_form(self) -> SeekPayload:
        if (self.position_ms is None) == (self.offset_ms is None):
            raise ValueError("give exactly one of position_ms and offset_ms")
        return self


class VolumePayload(Strict):
    """Lavalink's volume in percent: 100 leaves the audio unchanged."""

    percent: int = Field(ge=0, le=MAX_VOLUME)


class LoopPayload(Strict):
    mode: LoopMode


class RemovePayload(Strict):
    position: QueuePosition


class MovePayload(Strict):
    from_position: QueuePosition
    to_position: QueuePosition


class QueuePagePayload(Strict):
    page: int = Field(default=1, ge=1, le=10_000)


class SearchPayload(Strict):
    query: Query
    source: str | None = Field(default=None, pattern=r"^[a-z0-9]{1,32}$")
    limit: int = Field(default=10, ge=1, le=25)


class SuggestPayload(Strict):
    """Autocomplete: the partial text typed so far (may be empty)."""

    partial: str = Field(default="", max_length=100)


class FiltersPayload(Strict):
    """A filter preset name (``bassboost``, ``nightcore``…); ``off`` clears every filter."""

    preset: str = Field(pattern=r"^[a-z0-9_-]{1,32}$")


class AutoplayPayload(Strict):
    """``enabled`` None toggles; ``mode`` None keeps the guild's mode."""

    enabled: bool | None = None
    mode: AutoplayMode | None = None


class AutoplayRejectPayload(Strict):
    """Reject a track autoplay chose: skip it (when it plays) and never suggest it, or with
    ``scope`` ``artist`` anything of its artist, again for this guild."""

    identifier: str = Field(min_length=1, max_length=limits.TRACK_IDENTIFIER)
    scope: Literal["track", "artist"] = "track"
    reason: str | None = Field(default=None, max_length=200)


class LyricsPayload(Strict):
    """None: the current track."""

    query: Query | None = None


class StayPayload(Strict):
    """24/7 mode; ``enabled`` None toggles."""

    enabled: bool | None = None


class SettingsChangedPayload(Strict):
    """Names of the guild settings that changed, so audio reloads them."""

    keys: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(max_length=64)


class CommandEnvelope(Envelope):
    """A command: its Discord context and where it came from."""

    source: CommandSource = "discord"
    context: DiscordContext


class Play(CommandEnvelope):
    type: Literal["play"] = "play"
    payload: QueryPayload


class PlayNow(CommandEnvelope):
    type: Literal["playnow"] = "playnow"
    payload: QueryPayload


class PlayNext(CommandEnvelope):
    type: Literal["playnext"] = "playnext"
    payload: QueryPayload


class Pause(CommandEnvelope):
    type: Literal["pause"] = "pause"
    payload: NoPayload = NoPayload()


class Resume(CommandEnvelope):
    type: Literal["resume"] = "resume"
    payload: NoPayload = NoPayload()


class Toggle(CommandEnvelope):
    type: Literal["toggle"] = "toggle"
    payload: NoPayload = NoPayload()


class Skip(CommandEnvelope):
    type: Literal["skip"] = "skip"
    payload: SkipPayload = SkipPayload()


class VoteSkip(CommandEnvelope):
    type: Literal["voteskip"] = "voteskip"
    payload: NoPayload = NoPayload()


class Previous(CommandEnvelope):
    type: Literal["previous"] = "previous"
    payload: NoPayload = NoPayload()


class Stop(CommandEnvelope):
    type: Literal["stop"] = "stop"
    payload: NoPayload = NoPayload()


class Disconnect(CommandEnvelope):
    type: Literal["disconnect"] = "disconnect"
    payload: NoPayload = NoPayload()


class Seek(CommandEnvelope):
    type: Literal["seek"] = "seek"
    payload: SeekPayload


class Volume(CommandEnvelope):
    type: Literal["volume"] = "volume"
    payload: VolumePayload


class Loop(CommandEnvelope):
    type: Literal["loop"] = "loop"
    payload: LoopPayload


class Shuffle(CommandEnvelope):
    type: Literal["shuffle"] = "shuffle"
    payload: NoPayload = NoPayload()


class Remove(CommandEnvelope):
    type: Literal["remove"] = "remove"
    payload: RemovePayload


class Move(CommandEnvelope):
    type: Literal["move"] = "move"
    payload: MovePayload


class Clear(CommandEnvelope):
    type: Literal["clear"] = "clear"
    payload: NoPayload = NoPayload()


class QueueView(CommandEnvelope):
    type: Literal["queue"] = "queue"
    payload: QueuePagePayload = QueuePagePayload()


class NowPlaying(CommandEnvelope):
    type: Literal["nowplaying"] = "nowplaying"
    payload: NoPayload = NoPayload()


class Search(CommandEnvelope):
    type: Literal["search"] = "search"
    payload: SearchPayload


class Suggest(CommandEnvelope):
    type: Literal["suggest"] = "suggest"
    payload: SuggestPayload = SuggestPayload()


class Filters(CommandEnvelope):
    type: Literal["filters"] = "filters"
    payload: FiltersPayload


class Autoplay(CommandEnvelope):
    type: Literal["autoplay"] = "autoplay"
    payload: AutoplayPayload = AutoplayPayload()


class AutoplayReject(CommandEnvelope):
    type: Literal["autoplay-reject"] = "autoplay-reject"
    payload: AutoplayRejectPayload


class Lyrics(CommandEnvelope):
    type: Literal["lyrics"] = "lyrics"
    payload: LyricsPayload = LyricsPayload()


class Summon(CommandEnvelope):
    type: Literal["summon"] = "summon"
    payload: NoPayload = NoPayload()


class Stay(CommandEnvelope):
    type: Literal["stay"] = "stay"
    payload: StayPayload = StayPayload()


class SettingsChanged(CommandEnvelope):
    type: Literal["settings-changed"] = "settings-changed"
    payload: SettingsChangedPayload


Command = Annotated[
    Play
    | PlayNow
    | PlayNext
    | Pause
    | Resume
    | Toggle
    | Skip
    | VoteSkip
    | Previous
    | Stop
    | Disconnect
    | Seek
    | Volume
    | Loop
    | Shuffle
    | Remove
    | Move
    | Clear
    | QueueView
    | NowPlaying
    | Search
    | Suggest
    | Filters
    | Autoplay
    | AutoplayReject
    | Lyrics
    | Summon
    | Stay
    | SettingsChanged,
    Field(discriminator="type"),
]
