"""``lyrics``: read-only; the lyrics of the current track, or of the best match of a query.

One ``lyrics`` reply: the text (None when none were found: the gateway says so) and the
timed lines when the node has them, from :class:`~backbeat.audio.lyrics.LyricsService`
(cached in LyricsCache, so asking again does not reach the node).
"""

from __future__ import annotations

from backbeat.audio.context import Audio
from backbeat.audio.errors import CommandRefusedError
from backbeat.audio.guilds import GuildState
from backbeat.audio.handlers.play import search as searched
from backbeat.audio.replies import target
from backbeat.bus.interface import Delivery
from backbeat.domain import limits
from backbeat.domain.messages.commands import Lyrics
from backbeat.domain.messages.to_discord import LyricLine, LyricsPayload, LyricsReply
from backbeat.domain.queue import QueueTrack


async def lyrics(
    audio: Audio, state: GuildState, delivery: Delivery | None, command: Lyrics
) -> None:
    track: QueueTrack | None
    if command.payload.query is not None:
        found = await searched(audio, state, command, command.payload.query, None)
        track = found.tracks[0] if found.tracks else None
        if track is None:
            raise CommandRefusedError("no_results", "nothing found for that query")
    else:
        playing = state.playing
        track = playing.track if playing is not None else None
        if track is None:
            current = await audio.queue.current(guild_id=state.guild_id)
            track = current.track if current is not None else None
        if track is None:
            raise CommandRefusedError("nothing_playing", "nothing is playing")
    result = await audio.lyrics.for_track(track)
    await audio.to_discord(
        LyricsReply(
            **command.reply_fields(),
            payload=LyricsPayload(
                target=target(command),
                title=track.title[: limits.TRACK_TITLE],
                author=track.author[: limits.TRACK_AUTHOR] or None,
                identifier=track.identifier[: limits.TRACK_IDENTIFIER] or None,
                text=result.text[:20_000] if result.text is not None else None,
                source=result.source[: limits.LYRICS_SOURCE] if result.source else None,
                lines=[
                    LyricLine(
                        timestamp_ms=li.timestamp_ms, duration_ms=li.duration_ms, line=li.line
                    )
                    for li in result.lines
                ],
            ),
        )
    )
