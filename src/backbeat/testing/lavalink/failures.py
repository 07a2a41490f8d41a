"""Load failures the emulator reports, worded as YouTube and lavaplayer word them.

Lavalink turns a lavaplayer ``FriendlyException`` into the Exception object
``{message, severity, cause, causeStackTrace}``; ``cause`` is the root cause's
``toString()`` and ``causeStackTrace`` its printed stack trace.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal, cast

__all__ = ["FAILURES", "LoadFailure", "Severity", "exception_json", "failure"]

Severity = Literal["common", "suspicious", "fault"]

_FRIENDLY = "com.sedmelluq.discord.lavaplayer.tools.FriendlyException"


@dataclass(frozen=True)
class LoadFailure:
    """One kind of failure: the message users see, its severity and the underlying cause."""

    message: str
    severity: Severity
    cause_class: str = _FRIENDLY
    cause_message: str | None = None
    frames: tuple[str, ...] = (
        "dev.lavalink.youtube.clients.skeleton.StreamingNonMusicClient.loadVideo"
        "(StreamingNonMusicClient.java:92)",
        "dev.lavalink.youtube.YoutubeAudioSourceManager.loadItemOnce"
        "(YoutubeAudioSourceManager.java:415)",
        "dev.lavalink.youtube.YoutubeAudioSourceManager.loadItem"
        "(YoutubeAudioSourceManager.java:384)",
    )

    def to_json(self) -> dict[str, object]:
        """The Exception object of loadtracks ``error`` and of TrackExceptionEvent."""
        cause_message = self.cause_message if self.cause_message is not None else self.message
        cause = f"{self.cause_class}: {cause_message}"
        trace = "\n".join([cause, *(f"\tat {frame}" for frame in self.frames)]) + "\n"
        return {
            "message": self.message,
            "severity": self.severity,
            "cause": cause,
            "causeStackTrace": trace,
        }


FAILURES: dict[str, LoadFailure] = {
    "unavailable": LoadFailure("This video is unavailable", "common"),
    "region_blocked": LoadFailure("This video is not available in your country", "common"),
    "age_restricted": LoadFailure(
        "Sign in to confirm your age. This video may be inappropriate for some users.", "common"
    ),
    "bot_check": LoadFailure("Sign in to confirm you\u2019re not a bot", "common"),
    "sign_in": LoadFailure("Please sign in", "common"),
    "private": LoadFailure("This video is private", "common"),
    "network_error": LoadFailure(
        "Something went wrong when looking up the track",
        "fault",
        cause_class="java.net.SocketTimeoutException",
        cause_message="Connect timed out",
    ),
    "rate_limited": LoadFailure(
        "This IP address has been blocked by YouTube (429).",
        "suspicious",
        cause_class=_FRIENDLY,
        cause_message="This IP address has been blocked by YouTube (429).",
    ),
    "decoding": LoadFailure(
        "Something broke when playing the track.",
        "fault",
        cause_class="java.lang.IllegalStateException",
        cause_message="Unexpected end of stream",
        frames=(
            "com.sedmelluq.discord.lavaplayer.track.playback.LocalAudioTrackExecutor"
            ".execute(LocalAudioTrackExecutor.java:109)",
            "com.sedmelluq.discord.lavaplayer.player.DefaultAudioPlayerManager"
            ".lambda$executeTrack$2(DefaultAudioPlayerManager.java:355)",
        ),
    ),
    "unknown_format": LoadFailure(
        "Unknown file format.",
        "common",
        frames=(
            "com.sedmelluq.discord.lavaplayer.source.http.HttpAudioSourceManager"
            ".handleLoadResult(HttpAudioSourceManager.java:113)",
        ),
    ),
}
"""Every failure kind by name; catalog entries name theirs in ``CatalogTrack.failure``."""


def failure(kind: str, message: str | None = None, severity: str | None = None) -> LoadFailure:
    """The named failure, optionally with its message or severity overridden (control API)."""
    if kind not in FAILURES:
        raise ValueError(f"unknown failure kind {kind!r}; known: {', '.join(FAILURES)}")
    if severity is not None and severity not in ("common", "suspicious", "fault"):
        raise ValueError("severity must be common, suspicious or fault")
    base = FAILURES[kind]
    return replace(
        base,
        message=base.message if message is None else message,
        severity=base.severity if severity is None else cast(Severity, severity),
    )


def exception_json(kind: str) -> dict[str, object]:
    """The Exception object for the failure ``kind`` (a key of ``FAILURES``)."""
    return FAILURES[kind].to_json()
