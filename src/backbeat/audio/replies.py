"""The one correlated reply a command with an interaction gets (notice, error, queue page)."""

from __future__ import annotations

from backbeat.domain.messages import ReplyTarget, TrackSummary
from backbeat.domain.messages.commands import CommandEnvelope
from backbeat.domain.messages.to_discord import (
    ErrorReply,
    ErrorReplyPayload,
    Notice,
    NoticePayload,
)
from backbeat.domain.queue import QueueTrack

Param = str | int | float | bool


def wants_reply(command: CommandEnvelope) -> bool:
    """Whether somebody waits for an answer: the command came from an interaction."""
    return command.context.interaction is not None


def target(command: CommandEnvelope) -> ReplyTarget:
    return ReplyTarget(context=command.context)


def notice(command: CommandEnvelope, key: str, /, **params: Param) -> Notice | None:
    """A confirmation (``play.queued``, ``volume.set``…); None when nobody waits for one."""
    if not wants_reply(command):
        return None
    return Notice(
        **command.reply_fields(),
        payload=NoticePayload(target=target(command), key=key, params=params),
    )


def error_reply(
    command: CommandEnvelope, code: str, message: str, /, **params: Param
) -> ErrorReply | None:
    """A user-facing error; None when nobody waits for one (the error is logged anyway)."""
    if not wants_reply(command):
        return None
    return ErrorReply(
        **command.reply_fields(),
        payload=ErrorReplyPayload(
            target=target(command), code=code, message=message[:2000], params=params
        ),
    )


def summary(track: QueueTrack) -> TrackSummary:
    """A track as the gateway shows it."""
    return TrackSummary(
        title=track.title[:512],
        author=track.author[:512],
        uri=track.uri,
        identifier=track.identifier[:512],
        source_name=track.source_name[:64],
        length_ms=max(0, track.length_ms),
        is_stream=track.is_stream,
        artwork_url=track.artwork_url,
        encoded=track.encoded,
    )
