"""``/lyrics`` over the bus: the node's lyrics route (LavaLyrics) through LyricsCache."""

from __future__ import annotations

from datetime import timedelta

from audio_rig import AudioRig, RigFactory, fast_settings

from backbeat.config import AudioSettings
from backbeat.db.repositories.lyrics import LyricsRepository
from backbeat.domain.messages.commands import Lyrics, LyricsPayload, Play, QueryPayload
from backbeat.domain.messages.to_discord import ErrorReply, LyricsReply, Notice, TrackStart
from backbeat.testing.lavalink.catalog import Catalog
from backbeat.testing.lavalink.catalog_data import CatalogTrack

GUILD = 1_000_000_118
CATALOG = Catalog.default()


def _first(kind: str | None) -> CatalogTrack:
    return next(
        t
        for t in CATALOG.tracks
        if t.lyrics == kind and t.youtube_id and not t.failure and not t.is_stream
    )


async def _play(rig: AudioRig, track: CatalogTrack) -> None:
    url = f"https://www.youtube.com/watch?v={track.youtube_id}"
    reply = await rig.reply(
        await rig.send(Play(guild_id=GUILD, context=rig.context(), payload=QueryPayload(query=url)))
    )
    assert isinstance(reply, Notice), reply
    await rig.discord.wait(TrackStart, lambda m: m.guild_id == GUILD)


async def _lyrics(rig: AudioRig, query: str | None = None) -> LyricsReply:
    reply = await rig.reply(
        await rig.send(
            Lyrics(guild_id=GUILD, context=rig.context(), payload=LyricsPayload(query=query))
        )
    )
    assert isinstance(reply, LyricsReply), reply
    return reply


async def test_timed_lyrics_of_the_current_track_are_fetched_once(rig: AudioRig) -> None:
    track = _first("synced")
    await _play(rig, track)
    await rig.emulator.control.clear_requests()
    first = await _lyrics(rig)
    assert first.payload.title == track.youtube_title
    assert first.payload.identifier == track.youtube_id  # the gateway follows it while it plays
    assert first.payload.text
    assert first.payload.lines
    stamps = [line.timestamp_ms for line in first.payload.lines]
    assert stamps == sorted(stamps)
    assert len(await rig.emulator.control.requests("/v4/lyrics")) == 1
    second = await _lyrics(rig)
    keep = {"title", "author", "text", "source", "lines"}
    assert second.payload.model_dump(include=keep) == first.payload.model_dump(include=keep)
    assert len(await rig.emulator.control.requests("/v4/lyrics")) == 1, "the cache answered"


async def test_plain_lyrics_have_no_timed_lines_and_a_query_names_the_track(rig: AudioRig) -> None:
    track = _first("plain")
    reply = await _lyrics(rig, f"https://www.youtube.com/watch?v={track.youtube_id}")
    assert reply.payload.text
    assert reply.payload.lines == []


async def test_no_lyrics_found(rig: AudioRig) -> None:
    track = _first(None)
    await _play(rig, track)
    reply = await _lyrics(rig)
    assert reply.payload.text is None
    assert reply.payload.title == track.youtube_title


async def test_nothing_playing_is_refused(rig: AudioRig) -> None:
    reply = await rig.reply(await rig.send(Lyrics(guild_id=GUILD, context=rig.context())))
    assert isinstance(reply, ErrorReply), reply
    assert reply.payload.code == "nothing_playing"


async def test_the_cache_ttl_is_the_setting(make_rig: RigFactory) -> None:
    """BACKBEAT_LYRICS_CACHE_TTL_S sets how long an answer stays: past it, the node is asked."""
    rig = await make_rig(fast_settings(lyrics_cache_ttl_s=120))
    track = _first("synced")
    await _play(rig, track)
    await _lyrics(rig)
    repository = LyricsRepository(rig.engine)
    key = f"youtube:{track.youtube_id}"
    cached = await repository.get(track_key=key)
    assert cached is not None
    assert cached.expires_at is not None
    assert cached.expires_at - cached.fetched_at == timedelta(seconds=120)
    later = cached.fetched_at + timedelta(seconds=121)
    assert await repository.get(track_key=key, now=later) is None
    assert AudioSettings().lyrics_cache_ttl_s == 7 * 24 * 3600  # the default: 7 days
