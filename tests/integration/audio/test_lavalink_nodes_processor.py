"""Every Lavalink node down while commands arrive, through the whole audio worker.

The worker (bus, SQL, command processor) runs on two emulated nodes with real-time clocks;
both are killed while a guild plays, commands keep coming, then one node returns.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest_asyncio
from audio_rig import BOT, WAIT, AudioRig, fast_settings, urls
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine

from backbeat.audio.lavalink import LavalinkPlayers
from backbeat.audio.worker import AudioWorker
from backbeat.bus.streams import StreamBus
from backbeat.config import LavalinkNode
from backbeat.db.models import AuditLog, Queue
from backbeat.domain.messages.commands import (
    Pause,
    Play,
    QueryPayload,
    Resume,
    Skip,
    Volume,
    VolumePayload,
)
from backbeat.domain.messages.to_discord import ErrorReply, TrackStart
from backbeat.testing.lavalink.fixtures import EmulatorFactory
from backbeat.testing.lavalink.server import LavalinkEmulator

GUILD = 1_000_000_002  # partition 0 of 2


class TwoNodeRig(AudioRig):
    """The audio rig on two emulated nodes, with a short resume timeout and grace."""

    def __init__(self, emulators: list[LavalinkEmulator], **kwargs: Any) -> None:
        super().__init__(emulator=emulators[0], **kwargs)
        self.emulators = emulators

    async def start_worker(self) -> None:
        holder: list[AudioWorker] = []

        async def voice_request(guild_id: int, channel_id: int | None) -> None:
            await holder[0].audio.voice_request(guild_id, channel_id)

        players = LavalinkPlayers(
            user_id=BOT,
            nodes=[
                LavalinkNode(
                    name=f"node-{i}",
                    url=f"http://{e.host}:{e.port}",
                    password=SecretStr(e.password),
                    region=region,
                )
                for i, (e, region) in enumerate(zip(self.emulators, ["eu", "us"], strict=True))
            ],
            voice_request=voice_request,
            voice_connect_timeout_s=self.settings.voice_connect_timeout_s,
            resume_timeout_s=2,
            failover_grace_s=0.5,
            region="eu",
        )
        worker = AudioWorker(
            bus=self.bus,
            engine=self.engine,
            players=players,
            settings=self.settings,
            bot_user_id=BOT,
            worker_id=self.worker_id,
        )
        holder.append(worker)
        await players.start()
        self.players, self.worker = players, worker
        self.worker_task = asyncio.create_task(worker.run())
        deadline = time.monotonic() + WAIT
        while not (await players.ready() and worker.owned and len(players.stats()["nodes"]) == 2):
            if time.monotonic() > deadline:
                raise AssertionError("the worker did not get ready (node and leases)")
            await asyncio.sleep(0.02)
        while not all(n["available"] for n in players.stats()["nodes"]):
            if time.monotonic() > deadline:
                raise AssertionError("both nodes did not get ready")
            await asyncio.sleep(0.02)


@pytest_asyncio.fixture
async def two_node_rig(
    audio_bus: StreamBus, audio_engine: AsyncEngine, lavalink_emulator_factory: EmulatorFactory
) -> AsyncIterator[TwoNodeRig]:
    emulators = [await lavalink_emulator_factory(player_update_interval=1.0) for _ in range(2)]
    rig = TwoNodeRig(emulators, bus=audio_bus, engine=audio_engine, settings=fast_settings())
    await rig.start()
    try:
        yield rig
    finally:
        await rig.close()


async def _until(check: Callable[[], Awaitable[bool]], wait: float = 30.0) -> None:
    deadline = time.monotonic() + wait
    while not await check():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.05)


async def test_commands_while_every_node_is_down_apply_and_playback_resumes(
    two_node_rig: TwoNodeRig,
) -> None:
    rig = two_node_rig
    tracks = urls()
    await rig.reply(
        await rig.send(
            Play(guild_id=GUILD, context=rig.context(), payload=QueryPayload(query=tracks["one"]))
        )
    )
    await rig.reply(
        await rig.send(
            Play(guild_id=GUILD, context=rig.context(), payload=QueryPayload(query=tracks["two"]))
        )
    )
    await rig.discord.wait(TrackStart, lambda m: m.guild_id == GUILD)
    assert rig.players is not None
    players = rig.players
    assert players.snapshot(GUILD) is not None

    for emulator in rig.emulators:
        await emulator.kill()

    async def all_down() -> bool:
        stats = players.stats()
        return bool(stats["all_down"]) and stats["held"] == 1

    await _until(all_down)
    assert not await players.ready()

    commands = [
        Volume(guild_id=GUILD, context=rig.context(), payload=VolumePayload(percent=150)),
        Pause(guild_id=GUILD, context=rig.context()),
        Resume(guild_id=GUILD, context=rig.context()),
        Skip(guild_id=GUILD, context=rig.context()),
    ]
    for command in commands:
        reply = await rig.reply(await rig.send(command))
        assert not isinstance(reply, ErrorReply), reply

    [queue] = await rig.rows(Queue, GUILD)
    assert (queue.volume, queue.paused, queue.cursor_position) == (150, False, 1)

    await rig.emulators[1].restart()

    async def playing_two() -> bool:
        player = await rig.emulators[1].control.player(GUILD)
        return (
            player is not None
            and player["track"] is not None
            and player["track"]["info"]["uri"] == tracks["two"]
            and bool(player["state"]["connected"])
            and not player["paused"]
        )

    await _until(playing_two, wait=40.0)
    player = await rig.emulators[1].control.player(GUILD)
    assert player is not None
    assert player["volume"] == 150
    assert await rig.emulators[0].control.player(GUILD) is None
    actions = [a.action for a in await rig.rows(AuditLog, GUILD)]
    assert actions == ["play", "play", "volume", "pause", "resume", "skip"]
