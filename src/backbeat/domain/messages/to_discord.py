"""``discord-bot:to-discord``: from audio to the gateway process that owns the guild's shard.

Three kinds: player events derived from Lavalink (the seed's ``trackStart`` and friends),
requests the gateway carries out (join or leave voice with gateway opcode 4), and replies to
one command, tied to it by ``correlation_id`` and carrying where to answer.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from backbeat.domain import limits
from backbeat.domain.messages.common import DiscordContext, TrackSummary
from backbeat.domain.messages.envelope import Envelope, Snowflake, Strict

TrackEndReason = Literal["finished", "loadFailed", "stopped", "replaced", "cleanup"]
Severity = Literal["common", "suspicious", "fault"]


class TrackPayload(Strict):
    track: TrackSummary
    requester_id: Snowflake | None = None
    text_channel_id: Snowflake | None = None
    is_autoplay: bool = False


class TrackEndPayload(TrackPayload):
    reason: TrackEndReason


class TrackExceptionPayload(TrackPayload):
    message: str = Field(max_length=2000)
    severity: Severity
    retryable: bool = False


class TrackStuckPayload(TrackPayload):
    threshold_ms: int = Field(ge=0)


class QueueEndPayload(Strict):
    text_channel_id: Snowflake | None = None


class TrackStart(Envelope):
    type: Literal["trackStart"] = "trackStart"
    payload: TrackPayload


class TrackEnd(Envelope):
    type: Literal["trackEnd"] = "trackEnd"
    payload: TrackEndPayload


class TrackException(Envelope):
    type: Literal["trackException"] = "trackException"
    payload: TrackExceptionPayload


class TrackStuck(Envelope):
    type: Literal["trackStuck"] = "trackStuck"
    payload: TrackStuckPayload


class QueueEnd(Envelope):
    type: Literal["queueEnd"] = "queueEnd"
    payload: QueueEndPayload


class VoiceJoinPayload(Strict):
    channel_id: Snowflake
    self_deaf: bool = True
    self_mute: bool = False


class VoiceJoin(Envelope):
    """Ask the gateway to send op 4 joining (or moving to) a voice channel."""

    type: Literal["voice-join"] = "voice-join"
    payload: VoiceJoinPayload


class VoiceLeavePayload(Strict):
    reason: Literal["requested", "idle", "empty", "error", "moved"] = "requested"


class VoiceLeave(Envelope):
    """Ask the gateway to send op 4 with no channel."""

    type: Literal["voice-leave"] = "voice-leave"
    payload: VoiceLeavePayload = VoiceLeavePayload()


class ReplyTarget(Strict):
    """Where a reply goes: a followup while the interaction is fresh, else the text channel."""

    context: DiscordContext
    ephemeral: bool = True


class QueueEntry(Strict):
    position: int = Field(ge=1)
    track: TrackSummary
    requester_id: Snowflake | None = None
    is_autoplay: bool = False


class QueuePagePayload(Strict):
    target: ReplyTarget
    page: int = Field(ge=1)
    pages: int = Field(ge=1)
    total: int = Field(ge=0)
    total_length_ms: int = Field(ge=0)
    now_playing: TrackSummary | None = None
    entries: list[QueueEntry] = Field(max_length=100)


class SearchResultsPayload(Strict):
    target: ReplyTarget
    query: str = Field(max_length=limits.QUERY)
    tracks: list[TrackSummary] = Field(max_length=25)


class Choice(Strict):
    """One autocomplete choice (Discord limits both to 100 characters)."""

    name: str = Field(min_length=1, max_length=100)
    value: str = Field(min_length=1, max_length=100)


class SuggestionsPayload(Strict):
    interaction_id: Snowflake
    interaction_token: str = Field(min_length=1, max_length=512, repr=False)
    choices: list[Choice] = Field(max_length=25)


class LyricLine(Strict):
    """One timed line: where in the track it starts (and for how long)."""

    timestamp_ms: int = Field(ge=0)
    duration_ms: int | None = Field(default=None, ge=0)
    line: str = Field(max_length=500)


class LyricsPayload(Strict):
    target: ReplyTarget
    title: str = Field(max_length=limits.TRACK_TITLE)
    author: str | None = Field(default=None, max_length=limits.TRACK_AUTHOR)
    identifier: str | None = Field(
        default=None,
        max_length=limits.TRACK_IDENTIFIER,
        description="The track's identifier: the gateway follows timed lines only while it plays.",
    )
    text: str | None = Field(default=None, max_length=20_000, description="None: not found.")
    source: str | None = Field(default=None, max_length=limits.LYRICS_SOURCE)
    lines: list[LyricLine] = Field(
        default_factory=list, max_length=500, description="Timed lines; empty: plain text."
    )


class NoticePayload(Strict):
    """A short confirmation ("Skipped", "Volume set to 80%"): a message key and its values."""

    target: ReplyTarget
    key: str = Field(pattern=r"^[a-z0-9_.-]{1,64}$")
    params: dict[str, str | int | float | bool] = Field(default_factory=dict, max_length=16)


class ErrorReplyPayload(Strict):
    """A user-facing error; ``code`` is stable (the message key), ``message`` is English for
    humans and logs, ``params`` fill the translated text in the user's locale."""

    target: ReplyTarget
    code: str = Field(pattern=r"^[a-z0-9_.-]{1,64}$")
    message: str = Field(max_length=2000)
    params: dict[str, str | int | float | bool] = Field(default_factory=dict, max_length=16)
    retryable: bool = False


class QueuePage(Envelope):
    type: Literal["queue-page"] = "queue-page"
    payload: QueuePagePayload


class SearchResults(Envelope):
    type: Literal["search-results"] = "search-results"
    payload: SearchResultsPayload


class Suggestions(Envelope):
    type: Literal["suggestions"] = "suggestions"
    payload: SuggestionsPayload


class LyricsReply(Envelope):
    type: Literal["lyrics"] = "lyrics"
    payload: LyricsPayload


class Notice(Envelope):
    type: Literal["notice"] = "notice"
    payload: NoticePayload


class ErrorReply(Envelope):
    type: Literal["error-reply"] = "error-reply"
    payload: ErrorReplyPayload


ToDiscord = Annotated[
    TrackStart
    | TrackEnd
    | TrackException
    | TrackStuck
    | QueueEnd
    | VoiceJoin
    | VoiceLeave
    | QueuePage
    | SearchResults
    | Suggestions
    | LyricsReply
    | Notice
    | ErrorReply,
    Field(discriminator="type"),
]
