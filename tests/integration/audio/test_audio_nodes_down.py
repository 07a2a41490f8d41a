"""Every Lavalink node down while guilds play: what the guilds and the operator are told.

The whole audio worker (bus, SQL, command processor) runs on two emulated nodes with
real-time clocks, wired as the audio component wires it: session ids in SQL, the
``audio.nodes`` readiness check and the ``audio`` stats section on a real status server.
Both nodes are killed while two guilds play and commands keep coming; then one returns.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest_asyncio
from audio_rig import BOT, WAIT, AudioRig, fast_settings, urls
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine

from backbeat.audio.lavalink import LavalinkPlayers
from backbeat.audio.outage import UNAVAILABLE_CODE
from backbeat.audio.ports import NodeChanged
from backbeat.audio.worker import AudioWorker
from backbeat.bus.streams import StreamBus
from backbeat.config import LavalinkNode
from backbeat.db.models import Queue
from backbeat.db.repositories.lavalink_sessions import SqlSessionStore
from backbeat.domain.messages.commands import (
    Pause,
    Play,
    QueryPayload,
    Resume,
    Seek,
    SeekPayload,
    Volume,
    VolumePayload,
)
from backbeat.domain.messages.to_discord import ErrorReply, TrackStart
from backbeat.domain.messages.ui import UiError, UiUpdate
from backbeat.observability.status import StatusServer
from backbeat.testing.lavalink.fixtures import EmulatorFactory
from backbeat.testing.lavalink.server import LavalinkEmulator

PLAYING = (1_000_000_020, 1_000_000_021)  # two guilds playing when the nodes go
NEW = (1_000_000_022, 1_000_000_023)  # two guilds without a player, asking for /play then


class NodesDownRig(AudioRig):
    """The audio rig on two emulated nodes (short resume timeout and grace), with /ready
    and /stats served as the audio component serves them."""

    def __init__(
        self, emulators: list[LavalinkEmulator], status: StatusServer, **kwargs: Any
    ) -> None:
        super().__init__(emulator=emulators[0], **kwargs)
        self.emulators = emulators
        self.status = status

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
            session_store=SqlSessionStore(self.engine),
            worker_id=self.worker_id,
        )
        worker = AudioWorker(
            bus=self.bus,
            engine=self.engine,
            players=players,
            settings=self.settings,
            bot_user_id=BOT,
            worker_id=self.worker_id,
            resolver=self.resolver,
        )
        holder.append(worker)
        await players.start()
        self.players, self.worker = players, worker
        self.status.add_readiness_check("audio.nodes", players.ready)
        self.status.add_stats_section("audio", worker.stats)
        self.worker_task = asyncio.create_task(worker.run())
        await _until(lambda: _ready(players, worker), wait=WAIT)

    def notices(self, guild_id: int) -> list[UiError]:
        return [m for m in self.ui.of(UiError, guild_id) if m.payload.code == UNAVAILABLE_CODE]

    async def get(self, route: str) -> tuple[int, Any]:
        async with aiohttp.ClientSession() as http, http.get(self.status.url + route) as answer:
            return answer.status, await answer.json()


async def _ready(players: LavalinkPlayers, worker: AudioWorker) -> bool:
    nodes = players.stats()["nodes"]
    return bool(worker.owned) and len(nodes) == 2 and all(n["available"] for n in nodes)


@pytest_asyncio.fixture
async def down_rig(
    audio_bus: StreamBus, audio_engine: AsyncEngine, lavalink_emulator_factory: EmulatorFactory
) -> AsyncIterator[NodesDownRig]:
    emulators = [await lavalink_emulator_factory(player_update_interval=1.0) for _ in range(2)]
    async with StatusServer(port=0) as status:
        rig = NodesDownRig(
            emulators,
            status,
            bus=audio_bus,
            engine=audio_engine,
            settings=fast_settings(),
            worker_id="audio-nodes-down",
        )
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


async def test_every_node_down_tells_each_guild_once_and_playback_resumes(
    down_rig: NodesDownRig,
) -> None:
    rig = down_rig
    assert rig.players is not None
    assert rig.worker is not None
    players, worker = rig.players, rig.worker
    tracks = urls()
    first, other = PLAYING

    for guild in PLAYING:
        play = Play(
            guild_id=guild, context=rig.context(), payload=QueryPayload(query=tracks["one"])
        )
        assert not isinstance(await rig.reply(await rig.send(play)), ErrorReply)
    for guild in PLAYING:
        await rig.discord.wait(TrackStart, lambda m, g=guild: m.guild_id == g)  # type: ignore[misc]
    code, body = await rig.get("/ready")
    assert (code, body["checks"]) == (200, {"audio.nodes": True})

    for emulator in rig.emulators:
        await emulator.kill()

    async def all_down() -> bool:
        stats = players.stats()
        return bool(stats["all_down"]) and stats["held"] == 2

    await _until(all_down)
    for guild in PLAYING:  # told once the held players are settled (their positions final)
        await rig.ui.wait(UiError, lambda m, g=guild: m.guild_id == g)  # type: ignore[misc]
    stored = {}
    for guild in PLAYING:
        snapshot = players.snapshot(guild)
        assert snapshot is not None
        stored[guild] = snapshot.position_ms

    # the operator sees it: not ready for the nodes check, every node down in /stats
    code, body = await rig.get("/ready")
    assert (code, body["status"], body["checks"]) == (503, "not ready", {"audio.nodes": False})
    code, body = await rig.get("/stats")
    nodes = body["sections"]["audio"]["nodes"]
    assert code == 200
    assert (nodes["all_down"], nodes["held"]) == (True, 2)
    assert [(n["name"], n["state"], n["available"]) for n in nodes["nodes"]] == [
        ("node-0", "down", False),
        ("node-1", "down", False),
    ]

    # commands on the playing guilds go on: SQL takes them, the held player keeps them
    commands = [
        Volume(guild_id=first, context=rig.context(), payload=VolumePayload(percent=150)),
        Seek(guild_id=first, context=rig.context(), payload=SeekPayload(position_ms=30_000)),
        Pause(guild_id=first, context=rig.context()),
        Resume(guild_id=first, context=rig.context()),
        # a /play whose search is cached needs no node for a guild with a (held) player
        Play(guild_id=first, context=rig.context(), payload=QueryPayload(query=tracks["one"])),
        Volume(guild_id=other, context=rig.context(), payload=VolumePayload(percent=80)),
        Pause(guild_id=other, context=rig.context()),
        Resume(guild_id=other, context=rig.context()),
    ]
    for command in commands:
        reply = await rig.reply(await rig.send(command))
        assert not isinstance(reply, ErrorReply), reply
    [queue] = await rig.rows(Queue, first)
    assert (queue.volume, queue.paused, queue.cursor_position) == (150, False, 0)

    # a /play that needs a node (a search to make, or a player to create) is a clear error
    for guild, query in zip(NEW, [tracks["three"], tracks["one"]], strict=True):
        play = Play(guild_id=guild, context=rig.context(), payload=QueryPayload(query=query))
        reply = await rig.reply(await rig.send(play))
        assert isinstance(reply, ErrorReply), reply
        assert reply.payload.code == "no_node"
    assert await rig.rows(Queue, NEW[0]) == []  # the search itself needed the node
    assert len(await rig.rows(Queue, NEW[1])) == 1  # cached: queued, the voice connect needed it

    # the second lost node's report (as when both nodes held players) tells nobody twice
    worker.events.dispatch(
        NodeChanged("node-1", False, {"state": "down", "all_down": True, "held": list(PLAYING)})
    )
    await asyncio.sleep(1.0)  # room for a duplicate to show up
    for guild in PLAYING:
        [notice] = rig.notices(guild)
        assert notice.payload.text_channel_id == 9_500
        assert not notice.payload.skipped
    assert [rig.notices(g) for g in NEW] == [[], []]

    # a node returns: playback resumes by itself at the stored positions, the UI shows it
    since = len(rig.ui.seen)
    restarted = time.monotonic()
    await rig.emulators[1].restart()

    async def playing_again() -> bool:
        for guild in PLAYING:
            player = await rig.emulators[1].control.player(guild)
            if not (
                player is not None
                and player["track"] is not None
                and player["state"]["connected"]
                and not player["paused"]
            ):
                return False
        return True

    await _until(playing_again, wait=40.0)
    elapsed_ms = int((time.monotonic() - restarted) * 1000)
    for guild, start in ((first, 30_000), (other, stored[other])):
        player = await rig.emulators[1].control.player(guild)
        assert player is not None
        assert player["track"]["info"]["uri"] == tracks["one"]
        assert start - 2_000 <= player["state"]["position"] <= start + elapsed_ms + 2_000
        assert await rig.emulators[0].control.player(guild) is None
    assert [(await rig.emulators[1].control.player(g) or {})["volume"] for g in PLAYING] == [
        150,
        80,
    ]

    async def updated() -> bool:
        shown = {
            m.guild_id
            for m in rig.ui.seen[since:]
            if isinstance(m, UiUpdate) and m.payload.state.track is not None
        }
        return shown >= set(PLAYING)

    await _until(updated)
    await _until(players.ready)
    code, body = await rig.get("/ready")
    assert (code, body["checks"]) == (200, {"audio.nodes": True})
    code, body = await rig.get("/stats")
    assert (
        body["sections"]["audio"]["nodes"]["all_down"],
        body["sections"]["audio"]["nodes"]["held"],
    ) == (False, 0)
    assert [len(rig.notices(g)) for g in PLAYING] == [1, 1]

    # a later outage is news again: one more notice each
    await rig.emulators[1].kill()
    await _until(all_down)
    for guild in PLAYING:
        await _until(lambda g=guild: _count(rig, g, 2))  # type: ignore[misc]
    await asyncio.sleep(1.0)
    assert [len(rig.notices(g)) for g in PLAYING] == [2, 2]


async def _count(rig: NodesDownRig, guild_id: int, n: int) -> bool:
    return len(rig.notices(guild_id)) >= n
