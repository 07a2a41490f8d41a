"""Crash safety under load, with worker processes (Redis + PostgreSQL only).

A load generator plays a stream of commands for many guilds into two real audio workers
(subprocesses) on the Lavalink emulator (real-time clock), while the test breaks something
mid-stream: one worker is killed with SIGKILL, the test's own Redis server (AOF
``always``) is restarted, or the database is cut off through a TCP proxy the test controls
(the shared PostgreSQL server is never touched). Afterwards every guild's SQL queue equals
the result of applying every published command exactly once, every guild that was playing
plays within 2 s of its position on the emulator's clock in exactly one player (never two at
once), and a pause and then a skip per guild take effect on the emulator.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from audio_rig import AUDIO_BUS_CONFIG, AudioRig, fast_settings
from resilience_rig import PlaybackMonitor, TcpProxy, WorkerProcess
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from backbeat.bus.factory import redis_bus
from backbeat.bus.streams import StreamBus
from backbeat.db.models import AppliedMessage, AuditLog, Queue, QueueItem
from backbeat.domain.messages import Channel
from backbeat.domain.messages.commands import CommandEnvelope, Pause, Play, QueryPayload, Skip
from backbeat.domain.messages.to_discord import TrackStart
from backbeat.testing.lavalink.catalog import Catalog
from backbeat.testing.lavalink.fixtures import EmulatorFactory
from backbeat.testing.redis_server import RedisServer

pytestmark = pytest.mark.slow

PLAYS = 5  # per guild: the first joins voice and plays, the others queue up
RESUME_TIMEOUT_S = 3
SETTLE_S = 60.0  # generous: the machine is shared


def _tracks() -> list[tuple[str, str]]:
    """(search query, identifier) of long, distinct, playable catalog tracks."""
    seen: set[str] = set()
    found: list[tuple[str, str]] = []
    for track in Catalog.default().tracks:
        playable = track.youtube_id and not track.failure and not track.is_stream
        if playable and track.duration_ms >= 240_000 and track.title not in seen:
            seen.add(track.title)
            found.append((f"{track.title} {track.artist}", track.youtube_id))
    return found[:PLAYS]


@dataclasses.dataclass
class Scene:
    rig: AudioRig
    bus: StreamBus
    engine: AsyncEngine
    monitor: PlaybackMonitor
    workers: list[WorkerProcess]
    guilds: list[int]
    sent: dict[int, list[CommandEnvelope]] = dataclasses.field(default_factory=dict)


async def _publish(bus: StreamBus, command: CommandEnvelope) -> None:
    """Publish until Redis takes it (the same envelope again: the ledger keeps it once)."""
    delay = 0.05
    while True:
        try:
            await bus.publish(Channel.COMMANDS, command)
            return
        except Exception:
            await asyncio.sleep(delay)
            delay = min(delay * 2, 1.0)


async def _scalar(engine: AsyncEngine, statement: Any) -> Any:
    async with engine.connect() as conn:
        return (await conn.execute(statement)).scalar_one()


async def _run(scene: Scene, disrupt: Callable[[], Awaitable[None]]) -> None:
    rig, tracks = scene.rig, _tracks()
    assert len(tracks) == PLAYS
    context = rig.context()

    def play(guild: int, index: int) -> Play:
        query = QueryPayload(query=tracks[index][0])
        command = Play(guild_id=guild, context=context, payload=query)
        scene.sent.setdefault(guild, []).append(command)
        return command

    for guild in scene.guilds:  # every guild plays first
        scene.monitor.watch(guild)
        await _publish(scene.bus, play(guild, 0))
    for guild in scene.guilds:
        await rig.discord.wait(TrackStart, lambda m, g=guild: m.guild_id == g, wait=SETTLE_S)

    stream = [play(g, i) for i in range(1, PLAYS) for g in scene.guilds]
    breaking: asyncio.Task[None] | None = None
    for n, command in enumerate(stream):  # the load: ~100 commands a second
        if n == len(stream) // 3:
            breaking = asyncio.create_task(disrupt())
        await _publish(scene.bus, command)
        await asyncio.sleep(0.01)
    assert breaking is not None
    await breaking

    total = sum(len(c) for c in scene.sent.values())
    deadline = time.monotonic() + SETTLE_S
    while await _scalar(scene.engine, select(func.count()).select_from(AppliedMessage)) < total:
        assert time.monotonic() < deadline, "every accepted command applied"
        await asyncio.sleep(0.2)

    # exactly once: each guild's queue is its plays in order, one audit row and id each
    expected = [identifier for _, identifier in tracks]
    async with scene.engine.connect() as conn:
        for guild in scene.guilds:
            items = (
                await conn.execute(
                    select(QueueItem.identifier)
                    .join(Queue, Queue.id == QueueItem.queue_id)
                    .where(Queue.guild_id == guild)
                    .order_by(QueueItem.position)
                )
            ).scalars()
            assert list(items) == expected, guild
            audits = await conn.execute(
                select(func.count()).select_from(AuditLog).where(AuditLog.guild_id == guild)
            )
            assert audits.scalar_one() == PLAYS, guild
            applied = (
                await conn.execute(
                    select(AppliedMessage.message_id).where(AppliedMessage.guild_id == guild)
                )
            ).scalars()
            assert sorted(applied) == sorted(c.id for c in scene.sent[guild]), guild

    # every guild plays again, in exactly one player, where its timeline says
    deadline = time.monotonic() + SETTLE_S
    while not all(scene.monitor.session_of(g) for g in scene.guilds):
        assert time.monotonic() < deadline, [
            g for g in scene.guilds if not scene.monitor.session_of(g)
        ]
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.3)
    for guild in scene.guilds:
        record = scene.monitor.guilds[guild]
        assert record.overlaps == 0, f"guild {guild} sounded in two players at once"
        drift = scene.monitor.drift_ms(guild)
        assert drift is not None
        assert abs(drift) < 2_000, (guild, drift, record)

    # and takes a pause, then a skip
    async def wait_all(what: str, check: Callable[[dict[str, Any]], bool]) -> None:
        deadline = time.monotonic() + SETTLE_S
        while True:
            players = {p["guildId"]: p for p in await rig.emulator.control.players() if p["track"]}
            done = [g for g in scene.guilds if (p := players.get(str(g))) and check(p)]
            if len(done) == len(scene.guilds):
                return
            assert time.monotonic() < deadline, f"{len(done)} of {len(scene.guilds)} {what}"
            await asyncio.sleep(0.2)

    for guild in scene.guilds:
        await _publish(scene.bus, Pause(guild_id=guild, context=context))
    await wait_all("paused", lambda p: p["paused"] is True)
    for guild in scene.guilds:
        await _publish(scene.bus, Skip(guild_id=guild, context=context))
    await wait_all("skipped", lambda p: p["track"]["info"]["identifier"] == expected[1])


async def _scene(
    *,
    guilds: int,
    bus: StreamBus,
    worker_redis: str,
    prefix: str,
    engine: AsyncEngine,
    worker_db: str,
    emulator_factory: EmulatorFactory,
) -> Scene:
    emulator = await emulator_factory()  # real-time clock
    rig = AudioRig(bus=bus, engine=engine, emulator=emulator, settings=fast_settings())
    await rig.start(start_worker=False)
    monitor = PlaybackMonitor(emulator, interval_s=0.05)
    monitor.start()
    scene = Scene(rig, bus, engine, monitor, [], [1_000_000_400 + i for i in range(guilds)])
    for name in ("audio-left", "audio-right"):
        scene.workers.append(
            await WorkerProcess.start(
                worker_id=name,
                redis_url=worker_redis,
                prefix=prefix,
                db_url=worker_db,
                emulator=emulator,
                config=AUDIO_BUS_CONFIG,
                resume_timeout_s=RESUME_TIMEOUT_S,
            )
        )
    deadline = time.monotonic() + 30
    while not all(w.owned and len(w.owned[-1][0]) == 1 for w in scene.workers):  # one each
        assert time.monotonic() < deadline, "the two workers share the partitions"
        await asyncio.sleep(0.1)
    return scene


async def _close(scene: Scene) -> None:
    await scene.monitor.close()
    for worker in scene.workers:
        await worker.close()
    await scene.rig.close()


def _skip_embedded(audio_stack: str) -> None:
    if audio_stack == "embedded":
        pytest.skip("worker processes need the Redis bus and a database server")


async def test_a_worker_killed_mid_stream_loses_and_repeats_nothing(
    audio_stack: str,
    audio_bus: StreamBus,
    audio_engine: AsyncEngine,
    audio_db_url: str,
    lavalink_emulator_factory: EmulatorFactory,
    request: pytest.FixtureRequest,
) -> None:
    _skip_embedded(audio_stack)
    scene = await _scene(
        guilds=50,
        bus=audio_bus,
        worker_redis=request.getfixturevalue("redis_url"),
        prefix=request.getfixturevalue("redis_key_prefix"),
        engine=audio_engine,
        worker_db=audio_db_url,
        emulator_factory=lavalink_emulator_factory,
    )
    try:

        async def kill() -> None:
            scene.workers[0].kill()

        await _run(scene, kill)
        survivor = scene.workers[1]
        assert survivor.owned[-1][0] == frozenset({0, 1}), "the partitions moved"
    finally:
        await _close(scene)


async def test_a_redis_restart_mid_stream_is_ridden_out(
    audio_stack: str,
    audio_engine: AsyncEngine,
    audio_db_url: str,
    lavalink_emulator_factory: EmulatorFactory,
    redis_server: RedisServer,
) -> None:
    _skip_embedded(audio_stack)
    bus = redis_bus(redis_server.url, prefix="resilience:", config=AUDIO_BUS_CONFIG)
    scene = await _scene(
        guilds=20,
        bus=bus,
        worker_redis=redis_server.url,
        prefix="resilience:",
        engine=audio_engine,
        worker_db=audio_db_url,
        emulator_factory=lavalink_emulator_factory,
    )
    try:

        async def restart() -> None:
            await asyncio.to_thread(redis_server.restart, kill=True, down_for=1.0)

        await _run(scene, restart)
        assert all(w.process.returncode is None for w in scene.workers), "no worker crashed"
    finally:
        await _close(scene)
        await bus.close()


async def test_a_database_cut_mid_stream_makes_commands_wait(
    audio_stack: str,
    audio_bus: StreamBus,
    audio_engine: AsyncEngine,
    audio_db_url: str,
    lavalink_emulator_factory: EmulatorFactory,
    request: pytest.FixtureRequest,
) -> None:
    _skip_embedded(audio_stack)
    url = make_url(audio_db_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    scene = await _scene(
        guilds=20,
        bus=audio_bus,
        worker_redis=request.getfixturevalue("redis_url"),
        prefix=request.getfixturevalue("redis_key_prefix"),
        engine=audio_engine,
        worker_db=url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False),
        emulator_factory=lavalink_emulator_factory,
    )
    try:

        async def cut() -> None:
            proxy.cut()
            await asyncio.sleep(3.0)
            proxy.restore()

        await _run(scene, cut)
        assert all(w.process.returncode is None for w in scene.workers), "no worker crashed"
        assert any("command_waits_for_backend" in line for w in scene.workers for line in w.lines)
    finally:
        await _close(scene)
        await proxy.close()
