"""A worker that takes partitions over rebuilds their sessions from SQL (in-process workers,
both stacks, the Lavalink emulator on a real-time clock).

The first worker is cancelled as a crash would (its Lavalink session waits for a resume that
never comes and expires after the short resume timeout); the next worker restores every
session: the track from its position extrapolated from the last recorded playerUpdate, the
pause, volume, loop mode and filters, the now-playing message updated (never created again),
and the idle timer from its stored deadline (not started over).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from audio_rig import WAIT, fast_settings, urls
from resilience_rig import TakeoverRig
from sqlalchemy.ext.asyncio import AsyncEngine

from backbeat.bus.streams import StreamBus
from backbeat.db.repositories.queue import QueueRepository
from backbeat.domain.messages.commands import (
    Filters,
    FiltersPayload,
    Loop,
    LoopPayload,
    Pause,
    Play,
    QueryPayload,
    Stop,
    Volume,
    VolumePayload,
)
from backbeat.domain.messages.to_discord import TrackStart, VoiceLeave
from backbeat.domain.messages.ui import UiCreate, UiUpdate
from backbeat.domain.queue import LoopMode
from backbeat.testing.lavalink.fixtures import EmulatorFactory

PLAYING = 1_000_000_300
PAUSED = 1_000_000_301
IDLE = 1_000_000_302


async def _rig(
    bus: StreamBus, engine: AsyncEngine, db_url: str, factory: EmulatorFactory, **settings: Any
) -> TakeoverRig:
    emulator = await factory()  # real-time clock: positions move while the workers change
    rig = TakeoverRig(bus=bus, engine=engine, emulator=emulator, settings=fast_settings(**settings))
    rig.db_url = db_url
    await rig.start()
    return rig


async def _until(check: Any, wait: float = WAIT) -> Any:
    deadline = time.monotonic() + wait
    while not (found := await check()):
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.05)
    return found


async def _play(rig: TakeoverRig, guild: int) -> None:
    play = Play(guild_id=guild, context=rig.context(), payload=QueryPayload(query=urls()["title"]))
    await rig.send(play)
    await rig.discord.wait(TrackStart, lambda m: m.guild_id == guild)


async def test_a_crashed_workers_sessions_are_restored_from_sql(
    audio_bus: StreamBus,
    audio_engine: AsyncEngine,
    audio_db_url: str,
    lavalink_emulator_factory: EmulatorFactory,
) -> None:
    rig = await _rig(audio_bus, audio_engine, audio_db_url, lavalink_emulator_factory)
    queue = QueueRepository(audio_engine)
    try:
        await _play(rig, PLAYING)
        await _play(rig, PAUSED)
        context = rig.context()
        for command in (
            Volume(guild_id=PLAYING, context=context, payload=VolumePayload(percent=150)),
            Loop(guild_id=PLAYING, context=context, payload=LoopPayload(mode=LoopMode.QUEUE)),
            Filters(guild_id=PLAYING, context=context, payload=FiltersPayload(preset="bassboost")),
        ):
            await rig.reply(await rig.send(command))

        async def recorded() -> bool:  # a playerUpdate's position reached SQL
            session = await queue.session(guild_id=PLAYING)
            return session is not None and session.position_ms > 0

        await _until(recorded)
        await rig.reply(await rig.send(Pause(guild_id=PAUSED, context=context)))
        paused_at = (await rig.node_player(PAUSED))["state"]["position"]  # type: ignore[index]
        started = await rig.emulator.control.player(PLAYING)
        assert started is not None
        track_began = (await rig.emulator.control.clock())["nowMs"] - started["state"]["position"]
        creates = len(rig.ui.of(UiCreate))
        assert creates == 2

        await rig.kill_worker()
        await rig.start_worker()
        await rig.restored(wait=WAIT + rig.resume_timeout_s)

        players = {p["guildId"]: p for p in await rig.emulator.control.players() if p["track"]}
        assert set(players) == {str(PLAYING), str(PAUSED)}, "one player each: old ones expired"
        playing = players[str(PLAYING)]
        assert playing["volume"] == 150
        assert playing["filters"].get("equalizer"), "the bassboost preset's equalizer"
        assert playing["paused"] is False
        expected = (await rig.emulator.control.clock())["nowMs"] - track_began
        assert abs(playing["state"]["position"] - expected) < 2_000, (playing, expected)
        paused = players[str(PAUSED)]
        assert paused["paused"] is True
        assert abs(paused["state"]["position"] - paused_at) < 1_000
        session = await queue.session(guild_id=PLAYING)
        assert session is not None
        assert session.loop_mode is LoopMode.QUEUE
        await rig.ui.wait(UiUpdate, lambda m: m.guild_id == PLAYING and m.ts > time.time() - 30)
        assert len(rig.ui.of(UiCreate)) == creates, "the UI is updated, never created again"

        # the restored players take commands
        await rig.reply(await rig.send(Pause(guild_id=PLAYING, context=context)))
        assert (await rig.node_player(PLAYING))["paused"] is True  # type: ignore[index]
    finally:
        await rig.close()


async def test_the_idle_timer_runs_on_from_its_stored_deadline(
    audio_bus: StreamBus,
    audio_engine: AsyncEngine,
    audio_db_url: str,
    lavalink_emulator_factory: EmulatorFactory,
) -> None:
    idle_s = 8.0
    rig = await _rig(
        audio_bus, audio_engine, audio_db_url, lavalink_emulator_factory, idle_leave_s=idle_s
    )
    queue = QueueRepository(audio_engine)
    try:
        await _play(rig, IDLE)
        await rig.reply(await rig.send(Stop(guild_id=IDLE, context=rig.context())))
        stopped = time.monotonic()
        session = await queue.session(guild_id=IDLE)
        assert session is not None
        assert session.idle_leave_at is not None, "the deadline is stored"
        await rig.kill_worker()
        await rig.start_worker()
        restarted = time.monotonic()
        await rig.discord.wait(
            VoiceLeave, lambda m: m.guild_id == IDLE and m.payload.reason == "idle", wait=WAIT
        )
        left = time.monotonic()
        assert left - stopped < idle_s + 2.0, "ran on from the stored deadline"
        assert left - restarted < idle_s, "not started over"
        session = await queue.session(guild_id=IDLE)
        assert session is not None
        assert session.idle_leave_at is None
        assert session.voice_channel_id is None
    finally:
        await rig.close()
