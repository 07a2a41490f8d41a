"""``discord-bot:ui:now``: now-playing state snapshots from audio; the latest state wins.

Audio renders nothing for Discord: a snapshot is the player's state, and the gateway turns it
into an embed and buttons. ``state_seq`` rises with every message of a guild, also across audio
restarts (audio derives it from a clock), so a consumer may drop anything older than what it
has already shown.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from backbeat.domain.messages.common import AutoplayMode, LoopMode, TrackSummary
from backbeat.domain.messages.envelope import Envelope, Snowflake, Strict


class AutoplayReason(Strict):
    """Why autoplay chose a track, as parts the gateway translates: ``similar`` to a track
    (``subject``: its title), ``artist`` (more from ``subject``), ``genre`` (``subject``)."""

    kind: Literal["similar", "artist", "genre"]
    subject: str = Field(min_length=1, max_length=100)


class NowPlayingState(Strict):
    """Everything the now-playing message shows."""

    track: TrackSummary | None
    position_ms: int = Field(default=0, ge=0)
    paused: bool = False
    loop: LoopMode = LoopMode.OFF
    volume: int = Field(default=100, ge=0, le=200)
    autoplay: bool = False
    autoplay_mode: AutoplayMode = AutoplayMode.SIMILAR
    is_autoplay_track: bool = False
    #: Why autoplay chose the track ("similar to X", "more from Y", "genre: lofi").
    #: Why autoplay chose the track ("similar to X", "more from Y", "genre: lofi") in English,
    #: for readers that predate :attr:`autoplay_why`.
    autoplay_reason: str | None = Field(default=None, max_length=100)
    #: The same reason as kind and subject, so the gateway can say it in the guild's language.
    autoplay_why: AutoplayReason | None = None
    stay: bool = False
    filters: list[str] = Field(default_factory=list, max_length=16)
    queue_length: int = Field(default=0, ge=0)
    queue_length_ms: int = Field(default=0, ge=0)
    requester_id: Snowflake | None = None
    text_channel_id: Snowflake | None = None
    voice_channel_id: Snowflake | None = None
    listeners: int = Field(default=0, ge=0)


class StatePayload(Strict):
    state_seq: int = Field(ge=0)
    state: NowPlayingState


class ErrorNoticePayload(Strict):
    state_seq: int = Field(ge=0)
    code: str = Field(pattern=r"^[a-z0-9_.-]{1,64}$")
    message: str = Field(max_length=2000)
    skipped: bool = False
    text_channel_id: Snowflake | None = None


class DeletePayload(Strict):
    state_seq: int = Field(ge=0)
    reason: Literal["stopped", "disconnected", "idle", "empty"] = "stopped"


class UiCreate(Envelope):
    """Post a new now-playing message (replacing the guild's old one, if any)."""

    type: Literal["create"] = "create"
    payload: StatePayload


class UiUpdate(Envelope):
    """Edit the guild's now-playing message to show this state."""

    type: Literal["update"] = "update"
    payload: StatePayload


class UiError(Envelope):
    """Tell the guild about a playback problem (e.g. a track was unavailable and skipped)."""

    type: Literal["error"] = "error"
    payload: ErrorNoticePayload


class UiDelete(Envelope):
    """Remove the guild's now-playing message."""

    type: Literal["delete"] = "delete"
    payload: DeletePayload


UiMessage = Annotated[UiCreate | UiUpdate | UiError | UiDelete, Field(discriminator="type")]
