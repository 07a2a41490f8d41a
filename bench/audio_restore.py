"""Benchmark: restoring active players from SQL, and taking players over from another worker.

Setup: a fresh PostgreSQL database (migrated), a Redis key prefix of its own, one Lavalink
emulator (real-time clock, in this process), a stand-in gateway that answers ``voice-join``
with the raw voice events, and ``--players`` guild sessions seeded in SQL as a crashed
worker leaves them: in a voice channel, a current track, a recorded position.

1. **restore**: one ``AudioWorker`` (16 partitions) starts and gains every partition; timed
   from its start to the partitions' consumers running (commands flow from then on; each
   guild's commands wait for its own restore) and to every player sounding on the emulator
   (voice handshake through the bus, then the track from its extrapolated position).
2. **take-over**: a second worker joins; the first releases half the partitions and their
   players move into the second worker's Lavalink session by REST (old player read, new one
   connected with its voice, old one deleted, new one plays). A monitor polls the emulator
   every 10 ms: the longest silence of a guild (the take-over gap, on the emulator's clock)
   and whether a guild ever sounded in two players at once.

Publisher, workers and emulator share one process and event loop. Writes
``bench/reports/audio_restore.md`` and ``.json``.

    .venv/bin/python bench/audio_restore.py [--players 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import platform
import time
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from backbeat.audio.lavalink import LavalinkPlayers
from backbeat.audio.worker import AudioWorker
from backbeat.benchmark.report import percentile
from backbeat.benchmark.standin import VoiceJoinAnswers
from backbeat.bus import BusConfig, StreamBus, redis_bus
from backbeat.config import AudioSettings, LavalinkNode
from backbeat.db.engine import create_engine
from backbeat.db.migrate import migrate_to
from backbeat.db.repositories.queue import QueueRepository
from backbeat.db.types import utc_now
from backbeat.domain.messages import Channel
from backbeat.domain.queue import NewQueueItem, QueueTrack
from backbeat.observability.logging import configure_logging
from backbeat.testing.backends import (
    create_database,
    delete_redis_prefix,
    drop_database,
    new_run_id,
    server_url,
)
from backbeat.testing.lavalink.catalog import Catalog
from backbeat.testing.lavalink.server import LavalinkEmulator

REPORTS = Path(__file__).parent / "reports"
BOT = 424_242
CONFIG = BusConfig(partitions=16, block_ms=200, batch=100, lease_ttl_ms=10_000)
FIRST_GUILD = 1_000_000_000


async def _gateway(bus: StreamBus, answers: VoiceJoinAnswers) -> None:
    """Answer every voice-join with the bot's voice state and a voice server update."""
    async with bus.tap(Channel.TO_DISCORD) as tap:
        async for message in tap:
            answers.offer(message)


def _worker(
    name: str, bus: StreamBus, engine: Any, emulator: LavalinkEmulator
) -> tuple[AudioWorker, LavalinkPlayers]:
    holder: list[AudioWorker] = []

    async def voice_request(guild_id: int, channel_id: int | None) -> None:
        await holder[0].audio.voice_request(guild_id, channel_id)

    nodes = [
        LavalinkNode(
            name="bench",
            url=f"http://{emulator.host}:{emulator.port}",
            password=SecretStr(emulator.password),
        )
    ]
    players = LavalinkPlayers(
        user_id=BOT, nodes=nodes, voice_request=voice_request, voice_connect_timeout_s=30
    )
    worker = AudioWorker(
        bus=bus,
        engine=engine,
        players=players,
        settings=AudioSettings(url_allowlist=["www.youtube.com"], voice_connect_timeout_s=60),
        bot_user_id=BOT,
        worker_id=name,
        nodes=nodes,
    )
    holder.append(worker)
    return worker, players


async def _sounding(emulator: LavalinkEmulator) -> dict[int, list[str]]:
    """Guild → sessions whose player sounds (track, voice connected, not paused)."""
    found: dict[int, list[str]] = {}
    for player in await emulator.control.players():
        if player["track"] and not player["paused"] and player["state"].get("connected"):
            found.setdefault(int(player["guildId"]), []).append(player["sessionId"])
    return found


async def _seed(engine: Any, track: QueueTrack, players: int) -> None:
    queue = QueueRepository(engine)
    now = utc_now()

    async def one(guild: int) -> None:
        await queue.append(guild_id=guild, item=NewQueueItem(track=track, requester_id=1))
        await queue.set_session(
            guild_id=guild,
            voice_channel_id=9_001,
            text_channel_id=9_500,
            position_ms=30_000 + guild % 60_000,
            position_at=now,
        )

    guilds = [FIRST_GUILD + n for n in range(players)]
    for start in range(0, players, 50):
        await asyncio.gather(*(one(g) for g in guilds[start : start + 50]))


async def _run(args: argparse.Namespace) -> dict[str, Any]:
    run = new_run_id()
    db_url = await create_database("postgresql", f"backbeat_bench_{run}", sqlite_dir=Path("/tmp"))
    prefix = f"bbbench:{run}:"
    redis_url = server_url("redis")
    engine = create_engine(db_url, pool_size=12)  # the server is shared
    await migrate_to(engine, "head")
    bus = redis_bus(redis_url, prefix=prefix, config=CONFIG)
    emulator = LavalinkEmulator(port=0)
    await emulator.start()
    answers = VoiceJoinAnswers(bus, BOT)
    gateway = asyncio.create_task(_gateway(bus, answers))
    first, first_players = _worker("audio-bench-a", bus, engine, emulator)
    second, second_players = _worker("audio-bench-b", bus, engine, emulator)
    tasks: list[asyncio.Task[None]] = []
    try:
        await first_players.start()
        while not await first_players.ready():  # noqa: ASYNC110 - another component's state
            await asyncio.sleep(0.05)
        catalog = Catalog.default()
        playable = [t for t in catalog.tracks if t.youtube_id and not t.failure and not t.is_stream]
        long_one = max(playable, key=lambda t: t.duration_ms)
        loaded = await first_players.load(f"https://www.youtube.com/watch?v={long_one.youtube_id}")
        track = loaded.tracks[0]
        await _seed(engine, track, args.players)
        await asyncio.sleep(0.5)  # the gateway's tap is listening

        # 1. restore
        started = time.perf_counter()
        tasks.append(asyncio.create_task(first.run()))
        while first.lease_worker.consuming != frozenset(range(CONFIG.partitions)):  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        consuming_s = time.perf_counter() - started
        while len(await _sounding(emulator)) < args.players or first.restorer.pending:
            if time.perf_counter() - started > 600:
                raise RuntimeError("restore did not finish in 10 minutes")
            await asyncio.sleep(0.05)
        restore_s = time.perf_counter() - started

        # 2. take-over: half the partitions move to a second worker
        gaps: dict[int, float] = {}
        last: dict[int, float] = {}
        overlaps: set[int] = set()
        first_session = (await _sounding(emulator))[FIRST_GUILD][0]
        moved_guilds: set[int] = set()

        async def monitor() -> None:
            while True:
                now = (await emulator.control.clock())["nowMs"]
                for guild, sessions in (await _sounding(emulator)).items():
                    if len(sessions) > 1:
                        overlaps.add(guild)
                    if guild in last:
                        gaps[guild] = max(gaps.get(guild, 0.0), now - last[guild])
                    last[guild] = now
                    if sessions[0] != first_session:
                        moved_guilds.add(guild)
                await asyncio.sleep(0.01)

        watch = asyncio.create_task(monitor())
        tasks.append(watch)
        await asyncio.sleep(0.2)
        await second_players.start()
        joined = time.perf_counter()
        tasks.append(asyncio.create_task(second.run()))
        while not second.owned:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        expected = sum(
            1 for n in range(args.players) if (FIRST_GUILD + n) % CONFIG.partitions in second.owned
        )
        while len(moved_guilds) < expected or second.restorer.pending:
            if time.perf_counter() - joined > 600:
                raise RuntimeError("take-over did not finish in 10 minutes")
            await asyncio.sleep(0.05)
        takeover_s = time.perf_counter() - joined
        await asyncio.sleep(0.3)
        watch.cancel()
        moved_gaps = [gaps.get(g, 0.0) for g in moved_guilds]
        return {
            "players": args.players,
            "consumers_running_s": round(consuming_s, 3),
            "restore_all_playing_s": round(restore_s, 3),
            "restore_players_per_s": round(args.players / restore_s, 1),
            "takeover_players": len(moved_guilds),
            "takeover_s": round(takeover_s, 3),
            "takeover_gap_p50_ms": round(percentile(moved_gaps, 0.50), 1),
            "takeover_gap_p99_ms": round(percentile(moved_gaps, 0.99), 1),
            "takeover_gap_max_ms": round(max(moved_gaps, default=0.0), 1),
            "overlapping_guilds": len(overlaps),
        }
    finally:
        for worker in (second, first):
            with contextlib.suppress(Exception):
                await asyncio.wait_for(worker.stop(handover_wait_s=0), 30)
        for task in tasks:
            task.cancel()
        gateway.cancel()
        await asyncio.gather(*tasks, gateway, return_exceptions=True)
        await first_players.close()
        await second_players.close()
        await emulator.stop()
        await bus.close()
        await engine.dispose()
        await drop_database("postgresql", db_url)
        await delete_redis_prefix(redis_url, prefix)


def _report(result: dict[str, Any], command: str) -> str:
    return "\n".join(
        [
            "# Audio restore and take-over",
            "",
            f"`{command}` on {platform.python_implementation()} {platform.python_version()}, "
            f"{platform.machine()}; PostgreSQL and Redis local, the Lavalink emulator (real-time "
            "clock) and the stand-in gateway in the benchmark's process and event loop. The "
            "machine is shared: figures are indicative.",
            "",
            "| measure | value |",
            "|---|---|",
            f"| players restored from SQL | {result['players']} |",
            f"| worker start → partitions' consumers running | {result['consumers_running_s']} s |",
            f"| worker start → every player sounding | {result['restore_all_playing_s']} s |",
            f"| restore rate | {result['restore_players_per_s']} players/s |",
            f"| players taken over by a joining worker | {result['takeover_players']} |",
            f"| join → every one in the new worker's session | {result['takeover_s']} s |",
            f"| take-over gap (silence per guild, emulator clock) p50 | "
            f"{result['takeover_gap_p50_ms']} ms |",
            f"| take-over gap p99 | {result['takeover_gap_p99_ms']} ms |",
            f"| take-over gap max | {result['takeover_gap_max_ms']} ms |",
            f"| guilds ever sounding in two players | {result['overlapping_guilds']} |",
            "",
            "The restore includes each guild's voice handshake through the bus (the stand-in "
            "gateway answers every `voice-join`) and the play at the extrapolated position; "
            "the gap includes the monitor's polling interval, and the monitor itself (every "
            "player of the emulator read every 10 ms in the same event loop) slows the "
            "take-over down: the gap measured is an upper bound.",
            "",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--players", type=int, default=1000)
    args = parser.parse_args()
    configure_logging(level="WARNING", fmt="console")
    logging.getLogger().setLevel(logging.WARNING)
    result = asyncio.run(_run(args))
    REPORTS.mkdir(exist_ok=True)
    command = f".venv/bin/python bench/audio_restore.py --players {args.players}"
    (REPORTS / "audio_restore.json").write_text(json.dumps(result, indent=2) + "\n")
    (REPORTS / "audio_restore.md").write_text(_report(result, command))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
