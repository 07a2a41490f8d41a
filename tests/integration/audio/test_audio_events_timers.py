"""Player events (a track finishes, fails, gets stuck) and the idle, alone and 24/7 timers,
on the emulator's manual clock and short timer settings."""

from __future__ import annotations

import asyncio

from audio_rig import AudioRig, EventStoreEvent, PlaybackHistory, RigFactory, fast_settings, urls

from backbeat.domain.messages.commands import (
    CommandEnvelope,
    Loop,
    LoopPayload,
    Play,
    QueryPayload,
    Stay,
    StayPayload,
)
from backbeat.domain.messages.to_discord import (
    Notice,
    QueueEnd,
    TrackEnd,
    TrackException,
    TrackStart,
    VoiceLeave,
)
from backbeat.domain.messages.ui import UiCreate, UiDelete, UiError, UiUpdate
from backbeat.domain.queue import LoopMode

GUILD = 1_000_000_012


async def _ask(rig: AudioRig, command: CommandEnvelope) -> Notice:
    reply = await rig.reply(await rig.send(command))
    assert isinstance(reply, Notice), reply
    return reply


def _play(rig: AudioRig, key: str) -> Play:
    return Play(guild_id=GUILD, context=rig.context(), payload=QueryPayload(query=urls()[key]))


async def _finish_current(rig: AudioRig, starts: int) -> None:
    """Let the track playing end on the emulator's clock (its length and a second more)."""
    start = (await rig.discord.count(TrackStart, starts, GUILD))[starts - 1]
    await rig.emulator.control.advance(start.payload.track.length_ms + 1_000)


async def test_finished_tracks_advance_then_the_queue_ends_and_idle_leaves(
    make_rig: RigFactory,
) -> None:
    rig = await make_rig(fast_settings(idle_leave_s=0.5))
    await _ask(rig, _play(rig, "one"))
    await _ask(rig, _play(rig, "two"))
    await _finish_current(rig, 1)
    await rig.discord.count(TrackStart, 2, GUILD)
    end = await rig.discord.wait(TrackEnd, lambda m: m.guild_id == GUILD)
    assert end.payload.reason == "finished"
    await _finish_current(rig, 2)
    await rig.discord.wait(QueueEnd, lambda m: m.guild_id == GUILD)
    await rig.ui.wait(UiUpdate, lambda m: m.payload.state.track is None)
    leave = await rig.discord.wait(VoiceLeave, lambda m: m.guild_id == GUILD)
    assert leave.payload.reason == "idle"
    await rig.ui.wait(UiDelete, lambda m: m.payload.reason == "idle")
    history = await rig.rows(PlaybackHistory, GUILD)
    assert [h.skip_reason for h in history] == ["finished", "finished"]
    events = [e.type for e in await rig.rows(EventStoreEvent, GUILD)]
    assert events.count("track.started") == 2
    assert events.count("track.ended") == 2
    assert len(rig.ui.of(UiCreate, GUILD)) == 1, "one create per session"
    seqs = [m.payload.state_seq for m in rig.ui.seen if m.guild_id == GUILD]  # type: ignore[attr-defined]
    assert seqs == sorted(seqs)
    assert len(set(seqs)) == len(seqs)

    # a new /play after the idle leave joins again and creates a new message
    await _ask(rig, _play(rig, "three"))
    await rig.ui.count(UiCreate, 2, GUILD)


async def test_loop_track_plays_the_same_track_again(rig: AudioRig) -> None:
    await _ask(rig, _play(rig, "one"))
    await _ask(rig, _play(rig, "two"))
    mode = LoopPayload(mode=LoopMode.TRACK)
    await _ask(rig, Loop(guild_id=GUILD, context=rig.context(), payload=mode))
    await _finish_current(rig, 1)
    starts = await rig.discord.count(TrackStart, 2, GUILD)
    assert starts[0].payload.track.identifier == starts[1].payload.track.identifier


async def test_a_failing_track_is_recorded_and_skipped(rig: AudioRig) -> None:
    # not retryable (retries: tests/integration/audio/test_audio_failures.py)
    await rig.emulator.control.track_exception(after_ms=1_000, guild_id=GUILD, kind="unavailable")
    await _ask(rig, _play(rig, "one"))
    await _ask(rig, _play(rig, "two"))
    await rig.discord.count(TrackStart, 1, GUILD)
    await rig.emulator.control.advance(2_000)
    await rig.discord.wait(TrackException, lambda m: m.guild_id == GUILD)
    error = await rig.ui.wait(UiError, lambda m: m.guild_id == GUILD)
    assert error.payload.skipped
    await rig.discord.count(TrackStart, 2, GUILD)
    history = await rig.rows(PlaybackHistory, GUILD)
    assert [h.skip_reason for h in history] == ["error", None]


async def test_a_stuck_track_is_skipped(rig: AudioRig) -> None:
    # stuck again after its one retry from the position
    await rig.emulator.control.track_stuck(after_ms=1_000, guild_id=GUILD, times=2)
    await _ask(rig, _play(rig, "one"))
    await _ask(rig, _play(rig, "two"))
    await rig.discord.count(TrackStart, 1, GUILD)
    await rig.emulator.control.advance(2_000)
    await rig.discord.count(TrackStart, 2, GUILD)
    assert (await rig.rows(PlaybackHistory, GUILD))[0].skip_reason == "error"


async def test_alone_pauses_a_returning_listener_resumes_then_alone_leaves(
    make_rig: RigFactory,
) -> None:
    rig = await make_rig(fast_settings(alone_pause_s=0.3, alone_leave_s=1.0))
    await _ask(rig, _play(rig, "one"))
    await rig.discord.count(TrackStart, 1, GUILD)
    await rig.listeners(GUILD, 9_001, 0)
    await rig.ui.wait(UiUpdate, lambda m: m.payload.state.paused)
    assert (await rig.node_player(GUILD))["paused"] is True  # type: ignore[index]
    await rig.listeners(GUILD, 9_001, 2)
    await rig.ui.wait(
        UiUpdate, lambda m: not m.payload.state.paused and m.payload.state.listeners == 2
    )
    assert (await rig.node_player(GUILD))["paused"] is False  # type: ignore[index]
    assert not rig.discord.of(VoiceLeave, GUILD), "the listener came back in time"

    await rig.listeners(GUILD, 9_001, 0)
    leave = await rig.discord.wait(VoiceLeave, lambda m: m.guild_id == GUILD)
    assert leave.payload.reason == "empty"
    await rig.ui.wait(UiDelete, lambda m: m.payload.reason == "empty")
    assert await rig.node_player(GUILD) is None
    assert [h.skip_reason for h in await rig.rows(PlaybackHistory, GUILD)] == ["stopped"]


async def test_stay_keeps_the_bot_in_voice(make_rig: RigFactory) -> None:
    rig = await make_rig(fast_settings(idle_leave_s=0.2, alone_pause_s=0.2, alone_leave_s=0.4))
    stay = StayPayload(enabled=True)
    await _ask(rig, Stay(guild_id=GUILD, context=rig.context(), payload=stay))
    await _ask(rig, _play(rig, "one"))
    await rig.listeners(GUILD, 9_001, 0)
    await _finish_current(rig, 1)
    await rig.discord.wait(QueueEnd, lambda m: m.guild_id == GUILD)
    await asyncio.sleep(1.5)  # well past every timer
    assert not rig.discord.of(VoiceLeave, GUILD)
    assert await rig.node_player(GUILD) is not None

    off = StayPayload(enabled=False)
    await _ask(rig, Stay(guild_id=GUILD, context=rig.context(), payload=off))
    await rig.discord.wait(VoiceLeave, lambda m: m.guild_id == GUILD)
