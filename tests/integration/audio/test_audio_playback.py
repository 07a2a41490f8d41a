"""The command processor end to end: play, pause, resume, skip, stop, volume, seek, queue,
nowplaying through the bus, with the emulator's player and the SQL rows checked."""

from __future__ import annotations

from audio_rig import (
    USER,
    AudioRig,
    AuditLog,
    EventStoreEvent,
    PlaybackHistory,
    RigFactory,
    fast_settings,
    urls,
)

from backbeat.db.models import Queue, QueueItem
from backbeat.domain.messages.commands import (
    NoPayload,
    NowPlaying,
    Pause,
    Play,
    QueryPayload,
    QueueView,
    Resume,
    Seek,
    SeekPayload,
    Skip,
    Stop,
    Volume,
    VolumePayload,
)
from backbeat.domain.messages.to_discord import (
    ErrorReply,
    Notice,
    QueuePage,
    TrackStart,
    VoiceJoin,
)
from backbeat.domain.messages.ui import UiCreate, UiDelete, UiUpdate

GUILD = 1_000_000_002  # partition 0 of 2


async def _play(rig: AudioRig, query: str, guild_id: int = GUILD) -> Play:
    return await rig.send(  # type: ignore[return-value]
        Play(guild_id=guild_id, context=rig.context(), payload=QueryPayload(query=query))
    )


async def test_play_joins_voice_plays_and_records(rig: AudioRig) -> None:
    tracks = urls()
    command = await _play(rig, tracks["one"])

    join = await rig.discord.wait(VoiceJoin, lambda m: m.guild_id == GUILD)
    assert join.payload.channel_id == 9_001
    reply = await rig.reply(command)
    assert isinstance(reply, Notice), reply
    assert reply.payload.key == "play.started"
    create = await rig.ui.wait(UiCreate, lambda m: m.guild_id == GUILD)
    assert create.payload.state.track is not None
    await rig.discord.wait(TrackStart, lambda m: m.guild_id == GUILD)

    player = await rig.node_player(GUILD)
    assert player is not None
    assert player["track"] is not None
    assert player["voice"]["channelId"] == "9001"
    history = await rig.rows(PlaybackHistory, GUILD)
    assert len(history) == 1
    assert history[0].ended_at is None
    audits = await rig.rows(AuditLog, GUILD)
    assert [a.action for a in audits] == ["play"]
    assert audits[0].actor_id == USER
    assert audits[0].source == "discord"
    events = [e.type for e in await rig.rows(EventStoreEvent, GUILD)]
    assert "queue.changed" in events
    assert "track.started" in events
    assert len(await rig.replies(command)) == 1
    session = (await rig.rows(Queue, GUILD))[0]
    assert (session.voice_channel_id, session.text_channel_id) == (9_001, 9_500)
    assert session.node_name == "node-0"
    assert session.lavalink_session_id


async def test_a_playlist_adds_its_tracks_up_to_the_cap(make_rig: RigFactory) -> None:
    rig = await make_rig(fast_settings(playlist_max_tracks=3))
    reply = await rig.reply(await _play(rig, urls()["playlist"]))
    assert isinstance(reply, Notice)
    assert reply.payload.key == "play.playlist"
    assert reply.payload.params["count"] == 3
    assert len(await rig.rows(QueueItem)) == 3


async def test_a_search_goes_to_the_node_as_ytsearch(rig: AudioRig) -> None:
    reply = await rig.reply(await _play(rig, urls()["title"]))
    assert isinstance(reply, Notice)
    assert str(reply.payload.params["title"]).startswith(urls()["title"])


async def test_a_stream_cannot_seek(rig: AudioRig) -> None:
    await rig.reply(await _play(rig, urls()["stream"]))
    seek = await rig.send(
        Seek(guild_id=GUILD, context=rig.context(), payload=SeekPayload(offset_ms=10_000))
    )
    refused = await rig.reply(seek)
    assert isinstance(refused, ErrorReply)
    assert refused.payload.code == "seek_stream"


async def test_a_second_play_queues_and_the_snapshot_follows(rig: AudioRig) -> None:
    tracks = urls()
    await rig.reply(await _play(rig, tracks["one"]))
    second = await _play(rig, tracks["two"])
    reply = await rig.reply(second)
    assert isinstance(reply, Notice)
    assert reply.payload.key == "play.queued"
    assert reply.payload.params["position"] == 1
    update = await rig.ui.wait(UiUpdate, lambda m: m.payload.state.queue_length == 1)
    assert update.payload.state.queue_length_ms > 0

    page = await rig.reply(await rig.send(QueueView(guild_id=GUILD, context=rig.context())))
    assert isinstance(page, QueuePage)
    assert page.payload.total == 1
    assert page.payload.entries[0].position == 1
    assert page.payload.now_playing is not None
    assert rig.worker is not None
    stats = await rig.worker.stats()
    assert stats["queues"] == {"sessions": 1, "waiting": 1, "queued": 1, "longest": 1}
    assert (stats["players"], stats["playing"]) == (1, 1)


async def test_pause_resume_volume_seek_skip_stop(rig: AudioRig) -> None:
    tracks = urls()
    await rig.reply(await _play(rig, tracks["one"]))
    await rig.reply(await _play(rig, tracks["two"]))
    await rig.discord.wait(TrackStart)

    pause = await rig.send(Pause(guild_id=GUILD, context=rig.context()))
    assert (await rig.reply(pause)).payload.key == "pause.paused"  # type: ignore[attr-defined]
    await rig.ui.wait(UiUpdate, lambda m: m.payload.state.paused)
    assert (await rig.node_player(GUILD))["paused"] is True  # type: ignore[index]

    resume = await rig.send(Resume(guild_id=GUILD, context=rig.context()))
    await rig.reply(resume)
    assert (await rig.node_player(GUILD))["paused"] is False  # type: ignore[index]

    volume = await rig.send(
        Volume(guild_id=GUILD, context=rig.context(), payload=VolumePayload(percent=150))
    )
    await rig.reply(volume)
    assert (await rig.node_player(GUILD))["volume"] == 150  # type: ignore[index]
    await rig.ui.wait(UiUpdate, lambda m: m.payload.state.volume == 150)

    seek = await rig.send(
        Seek(guild_id=GUILD, context=rig.context(), payload=SeekPayload(position_ms=30_000))
    )
    assert (await rig.reply(seek)).payload.key == "seek.done"  # type: ignore[attr-defined]
    assert (await rig.node_player(GUILD))["state"]["position"] >= 30_000  # type: ignore[index]
    relative = await rig.send(
        Seek(guild_id=GUILD, context=rig.context(), payload=SeekPayload(offset_ms=10_000))
    )
    reply = await rig.reply(relative)
    assert isinstance(reply, Notice)
    assert reply.payload.params["position_ms"] >= 40_000
    past = await rig.send(
        Seek(guild_id=GUILD, context=rig.context(), payload=SeekPayload(offset_ms=86_000_000))
    )
    refused = await rig.reply(past)
    assert isinstance(refused, ErrorReply)
    assert refused.payload.code == "seek_past_end"

    skip = await rig.send(Skip(guild_id=GUILD, context=rig.context()))
    assert (await rig.reply(skip)).payload.key == "skip.done"  # type: ignore[attr-defined]
    await rig.discord.count(TrackStart, 2, GUILD)
    history = await rig.rows(PlaybackHistory, GUILD)
    assert [h.skip_reason for h in history] == ["skipped", None]

    stop = await rig.send(Stop(guild_id=GUILD, context=rig.context()))
    await rig.reply(stop)
    await rig.ui.wait(UiDelete, lambda m: m.payload.reason == "stopped")
    assert (await rig.node_player(GUILD))["track"] is None  # type: ignore[index]
    history = await rig.rows(PlaybackHistory, GUILD)
    assert [h.skip_reason for h in history] == ["skipped", "stopped"]

    nowplaying = await rig.send(
        NowPlaying(guild_id=GUILD, context=rig.context(), payload=NoPayload())
    )
    answer = await rig.reply(nowplaying)
    assert isinstance(answer, ErrorReply)
    assert answer.payload.code == "nothing_playing"
    actions = [a.action for a in await rig.rows(AuditLog, GUILD)]
    assert actions == ["play", "play", "pause", "resume", "volume", "seek", "seek", "skip", "stop"]


async def test_a_requester_in_no_voice_channel_gets_a_clear_error(rig: AudioRig) -> None:
    command = await rig.send(
        Play(
            guild_id=GUILD,
            context=rig.context(voice_channel_id=None),
            payload=QueryPayload(query=urls()["one"]),
        )
    )
    reply = await rig.reply(command)
    assert isinstance(reply, ErrorReply)
    assert reply.payload.code == "not_in_voice"
    assert await rig.node_player(GUILD) is None
