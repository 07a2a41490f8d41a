"""Commands through one audio worker in its own process: Redis + PostgreSQL + Lavalink emulator.

Processes: this one (the driver: the load, a stand-in gateway answering ``voice-join``,
taps on ``to-discord`` and ``ui:now``), the audio worker (``python -m
backbeat.benchmark.throughput worker``, as ``backbeat run audio`` composes it, with counters
of its Redis round trips and SQL statements and transactions, printed on ``SIGUSR1``), the
Lavalink emulator (``python -m backbeat.testing.lavalink``), and the shared Redis and
PostgreSQL servers. ``guilds`` guilds are seeded in SQL (a queue of 25 tracks, a voice
channel) and restored by the worker (playing on the emulator) before anything is timed.

Phases: **saturation** (commands of :data:`MIX` published faster than the worker answers,
in pipelines; the rate is commands answered per second over the window, answered meaning
the correlated reply arrived — the reply goes out only after the commit, the bus
acknowledges after it), then **latency** (the mix at ``latency_share`` of the measured rate,
while probe guilds send one ``volume`` at a time and time it to their next ``ui:now``).
CPU per process group is sampled from ``/proc`` over the saturation window; ``py-spy``
(when installed) samples the worker over the same window for a profile summary.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from backbeat.benchmark.report import percentile
from backbeat.benchmark.sampling import CpuSampler, pids_named
from backbeat.benchmark.standin import answer_voice_join
from backbeat.bus import BusConfig, StreamBus, redis_bus
from backbeat.domain.messages import Channel, DiscordContext, InteractionRef
from backbeat.domain.messages.commands import (
    CommandEnvelope,
    Filters,
    FiltersPayload,
    Loop,
    LoopPayload,
    Move,
    MovePayload,
    NowPlaying,
    Pause,
    Play,
    PlayNext,
    QueryPayload,
    QueueView,
    Remove,
    RemovePayload,
    Resume,
    Seek,
    SeekPayload,
    Shuffle,
    Skip,
    Volume,
    VolumePayload,
)
from backbeat.domain.messages.to_discord import ErrorReply, VoiceJoin
from backbeat.domain.queue import LoopMode

BOT = 424_242
PARTITIONS = 16
FIRST_GUILD = 1_000_000_000
PROBES = 20
PASSWORD = "bench-pw"
QUEUE_TRACKS = 25

#: The mix (shares of the commands): reaching Lavalink 35 %, queue edits 20 %, reads 10 %,
#: the rest loop and filters settings (filters reach Lavalink too, counted apart).
MIX: tuple[tuple[str, float, str], ...] = (
    ("pause", 0.06, "lavalink"),
    ("resume", 0.06, "lavalink"),
    ("volume", 0.10, "lavalink"),
    ("seek", 0.07, "lavalink"),
    ("skip", 0.04, "lavalink"),
    ("play", 0.02, "lavalink"),
    ("remove", 0.05, "queue edit"),
    ("move", 0.05, "queue edit"),
    ("shuffle", 0.05, "queue edit"),
    ("playnext", 0.05, "queue edit"),
    ("queue", 0.05, "read"),
    ("nowplaying", 0.05, "read"),
    ("loop", 0.20, "other"),
    ("filters", 0.15, "other"),
)


def mix_text() -> str:
    groups: dict[str, list[str]] = collections.defaultdict(list)
    shares: dict[str, float] = collections.defaultdict(float)
    for kind, share, group in MIX:
        groups[group].append(f"{kind} {round(share * 100)} %")
        shares[group] += share
    return "; ".join(
        f"{group} {round(shares[group] * 100)} % ({', '.join(kinds)})"
        for group, kinds in groups.items()
    )


# ----- the worker process --------------------------------------------------------------------


async def worker_main(redis_url: str, prefix: str, db_url: str, node_url: str) -> None:
    """One audio worker, counting its Redis round trips and SQL work (``SIGUSR1`` prints)."""
    from pydantic import SecretStr
    from redis.asyncio.connection import Connection
    from sqlalchemy import event

    from backbeat.audio.lavalink import LavalinkPlayers
    from backbeat.audio.worker import AudioWorker
    from backbeat.config import AudioSettings, LavalinkNode
    from backbeat.db.engine import create_engine
    from backbeat.observability.logging import configure_logging
    from backbeat.observability.metrics import REGISTRY

    configure_logging(level="WARNING", fmt="json")
    counts = {"redis_round_trips": 0, "sql_statements": 0, "sql_commits": 0}
    send = Connection.send_packed_command

    async def counted(self: Connection, command: Any, check_health: bool = True) -> None:
        counts["redis_round_trips"] += 1
        await send(self, command, check_health)

    Connection.send_packed_command = counted  # type: ignore[method-assign,assignment]
    config = BusConfig(partitions=PARTITIONS, block_ms=200, batch=200, lease_ttl_ms=10_000)
    bus = redis_bus(redis_url, prefix=prefix, config=config)
    engine = create_engine(db_url)

    def statement(*_: Any) -> None:
        counts["sql_statements"] += 1

    def commit(*_: Any) -> None:
        counts["sql_commits"] += 1

    event.listen(engine.sync_engine, "before_cursor_execute", statement)
    event.listen(engine.sync_engine, "commit", commit)
    holder: list[AudioWorker] = []

    async def voice_request(guild_id: int, channel_id: int | None) -> None:
        await holder[0].audio.voice_request(guild_id, channel_id)

    nodes = [LavalinkNode(name="bench", url=node_url, password=SecretStr(PASSWORD))]
    players = LavalinkPlayers(
        user_id=BOT, nodes=nodes, voice_request=voice_request, voice_connect_timeout_s=60
    )
    worker = AudioWorker(
        bus=bus,
        engine=engine,
        players=players,
        settings=AudioSettings(url_allowlist=["www.youtube.com"], voice_connect_timeout_s=60),
        bot_user_id=BOT,
        worker_id="audio-bench-throughput",
        nodes=nodes,
    )
    holder.append(worker)
    await players.start()
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)

    def histogram(name: str) -> tuple[float, float]:
        total = count = 0.0
        for family in REGISTRY.collect():
            for sample in family.samples:
                if sample.name == f"{name}_sum":
                    total += sample.value
                elif sample.name == f"{name}_count":
                    count += sample.value
        return total, count

    def status() -> None:
        batch_sum, batch_count = histogram("audio_batch_commands")
        _, handled = histogram("audio_command_duration_seconds")
        line = {
            **counts,
            "batch_commands": batch_sum,
            "batch_transactions": batch_count,
            "handled": handled,
            "publish_round_trips": worker.publisher.round_trips,
            "published": worker.publisher.sent,
            "owned": len(worker.lease_worker.consuming),
            "pending": len(worker.restorer.pending),
            "guilds": len(worker.audio.guilds),
        }
        print(json.dumps(line), flush=True)

    loop.add_signal_handler(signal.SIGUSR1, status)
    run = asyncio.create_task(worker.run())
    status()  # the first line: ready for SIGUSR1
    await stop.wait()
    run.cancel()
    await asyncio.gather(run, return_exceptions=True)
    await players.close()
    await bus.close()
    await engine.dispose()


# ----- the driver ----------------------------------------------------------------------------


def _context() -> DiscordContext:
    return DiscordContext(
        user_id=4_200_001,
        text_channel_id=9_500,
        voice_channel_id=9_001,
        interaction=InteractionRef(id=1, token="t", application_id=BOT, created_at=time.time()),
    )


class Driver:
    """The load, the stand-in gateway and the taps."""

    def __init__(self, bus: StreamBus, urls: list[str], seed: int = 7) -> None:
        self.bus = bus
        self.urls = urls
        self.rng = random.Random(seed)
        self.sent: dict[str, float] = {}
        self.answered: dict[str, float] = {}
        self.refused = 0
        self.kinds: dict[str, str] = {}
        self._answers: set[asyncio.Task[None]] = set()
        self._ui_waiters: dict[int, asyncio.Future[float]] = {}
        self._kinds = [kind for kind, _, _ in MIX]
        self._weights = [share for _, share, _ in MIX]

    async def gateway(self) -> None:
        async with self.bus.tap(Channel.TO_DISCORD) as tap:
            async for message in tap:
                now = time.perf_counter()
                if isinstance(message, VoiceJoin):
                    task = asyncio.create_task(answer_voice_join(self.bus, message, BOT))
                    self._answers.add(task)
                    task.add_done_callback(self._answers.discard)
                elif (
                    message.correlation_id is not None
                    and message.correlation_id not in self.answered
                ):
                    self.answered[message.correlation_id] = now
                    if isinstance(message, ErrorReply):
                        self.refused += 1

    async def ui(self) -> None:
        async with self.bus.tap(Channel.UI_NOW) as tap:
            async for message in tap:
                now = time.perf_counter()
                waiter = self._ui_waiters.pop(message.guild_id, None)
                if waiter is not None and not waiter.done():
                    waiter.set_result(now)

    def command(self, guild: int) -> CommandEnvelope:
        kind = self.rng.choices(self._kinds, self._weights)[0]
        ctx = _context()
        rng = self.rng
        made: CommandEnvelope
        if kind == "pause":
            made = Pause(guild_id=guild, context=ctx)
        elif kind == "resume":
            made = Resume(guild_id=guild, context=ctx)
        elif kind == "volume":
            made = Volume(
                guild_id=guild, context=ctx, payload=VolumePayload(percent=rng.randint(1, 150))
            )
        elif kind == "seek":
            made = Seek(
                guild_id=guild, context=ctx, payload=SeekPayload(position_ms=rng.randint(0, 60_000))
            )
        elif kind == "skip":
            made = Skip(guild_id=guild, context=ctx)
        elif kind in ("play", "playnext"):
            query = QueryPayload(query=rng.choice(self.urls))
            made = (Play if kind == "play" else PlayNext)(
                guild_id=guild, context=ctx, payload=query
            )
        elif kind == "remove":
            made = Remove(
                guild_id=guild, context=ctx, payload=RemovePayload(position=rng.randint(1, 5))
            )
        elif kind == "move":
            payload = MovePayload(from_position=rng.randint(1, 5), to_position=rng.randint(1, 5))
            made = Move(guild_id=guild, context=ctx, payload=payload)
        elif kind == "shuffle":
            made = Shuffle(guild_id=guild, context=ctx)
        elif kind == "queue":
            made = QueueView(guild_id=guild, context=ctx)
        elif kind == "nowplaying":
            made = NowPlaying(guild_id=guild, context=ctx)
        elif kind == "loop":
            mode = rng.choice([LoopMode.OFF, LoopMode.QUEUE, LoopMode.TRACK])
            made = Loop(guild_id=guild, context=ctx, payload=LoopPayload(mode=mode))
        else:
            preset = rng.choice(["bassboost", "nightcore", "off"])
            made = Filters(guild_id=guild, context=ctx, payload=FiltersPayload(preset=preset))
        self.kinds[made.id] = kind
        return made

    async def offer(
        self, guilds: list[int], rate: float, seconds: float, tick_s: float = 0.02
    ) -> list[str]:
        """Publish the mix at ``rate`` commands/s for ``seconds`` (pipelines per tick)."""
        ids: list[str] = []
        started = time.perf_counter()
        due = 0.0
        while (elapsed := time.perf_counter() - started) < seconds:
            target = int(rate * elapsed) - len(ids)
            if target > 0:
                batch = [self.command(self.rng.choice(guilds)) for _ in range(target)]
                now = time.perf_counter()
                for command in batch:
                    self.sent[command.id] = now
                    ids.append(command.id)
                await self.bus.publish_many([(Channel.COMMANDS, c) for c in batch])
            due += tick_s
            await asyncio.sleep(max(0.0, started + due - time.perf_counter()))
        return ids

    async def probe(self, guild: int) -> float | None:
        """One volume command of a probe guild: seconds to the guild's next ui:now."""
        shown: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._ui_waiters[guild] = shown
        command = Volume(
            guild_id=guild,
            context=_context(),
            payload=VolumePayload(percent=self.rng.randint(1, 150)),
        )
        started = time.perf_counter()
        self.sent[command.id] = started
        await self.bus.publish(Channel.COMMANDS, command)
        try:
            return await asyncio.wait_for(shown, 30) - started
        except TimeoutError:
            self._ui_waiters.pop(guild, None)
            return None

    async def wait_answered(self, ids: list[str], limit_s: float) -> None:
        deadline = time.perf_counter() + limit_s
        while missing := sum(1 for i in ids if i not in self.answered):
            if time.perf_counter() > deadline:
                raise RuntimeError(f"{missing} commands not answered within {limit_s} s")
            await asyncio.sleep(0.1)


async def _seed(engine: Any, tracks: list[Any], guilds: list[int]) -> None:
    from backbeat.db.repositories.queue import QueueRepository
    from backbeat.db.types import utc_now
    from backbeat.domain.queue import NewQueueItem

    queue = QueueRepository(engine)
    now = utc_now()

    async def one(guild: int) -> None:
        items = [NewQueueItem(track=t, requester_id=1) for t in tracks[:QUEUE_TRACKS]]
        await queue.append_many(guild_id=guild, items=items)
        await queue.set_session(
            guild_id=guild,
            voice_channel_id=9_001,
            text_channel_id=9_500,
            position_ms=1_000,
            position_at=now,
        )

    for start in range(0, len(guilds), 50):
        await asyncio.gather(*(one(g) for g in guilds[start : start + 50]))


async def _start_emulator(log: Path) -> tuple[subprocess.Popen[bytes], dict[str, str]]:
    process = await asyncio.to_thread(
        subprocess.Popen,
        [sys.executable, "-m", "backbeat.testing.lavalink", "--port", "0", "--password", PASSWORD,
         "--log-level", "WARNING"],
        stdout=subprocess.PIPE,
        stderr=log.open("wb"),
    )  # fmt: skip
    assert process.stdout is not None
    line = await asyncio.to_thread(process.stdout.readline)
    if not line:
        raise RuntimeError(f"the emulator did not start: see {log}")
    return process, json.loads(line)


def summarize_profile(raw: Path) -> dict[str, Any]:
    """py-spy's raw stacks summed into own and total shares of the samples."""
    own: collections.Counter[str] = collections.Counter()
    total: collections.Counter[str] = collections.Counter()
    samples = 0
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        count = int(count_text)
        frames = []
        for frame in stack.split(";"):
            name, _, where = frame.partition(" (")
            frames.append(f"{name} ({where.split(':')[0].rsplit('/', 1)[-1]})" if where else name)
        samples += count
        own[frames[-1]] += count
        for frame in set(frames):
            total[frame] += count
    idle = sum(c for f, c in own.items() if "select (selectors" in f or "poll (" in f)
    return {
        "samples": samples,
        "idle_share": round(idle / samples, 3) if samples else 0.0,
        "own": [(f, round(c / samples, 3)) for f, c in own.most_common(20)],
        "total": [(f, round(c / samples, 3)) for f, c in total.most_common(30)],
    }


@dataclass
class Options:
    guilds: int = 1000
    saturate_rate: float = 4000.0
    saturate_s: float = 30.0
    latency_share: float = 0.6
    latency_s: float = 20.0
    profile: bool = True
    workdir: Path = field(default_factory=lambda: Path("/tmp/backbeat-throughput"))
    setup_timeout_s: float = 300.0


class _Worker:
    """The worker subprocess and its status lines."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self.process = process
        self.lines: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def follow(self) -> None:
        assert self.process.stdout is not None
        while line := await asyncio.to_thread(self.process.stdout.readline):
            with contextlib.suppress(ValueError):
                await self.lines.put(json.loads(line))

    async def status(self) -> dict[str, Any]:
        while not self.lines.empty():
            self.lines.get_nowait()
        self.process.send_signal(signal.SIGUSR1)
        return await asyncio.wait_for(self.lines.get(), 30)


async def run(
    options: Options, redis_url: str, postgres_server: str | None = None
) -> dict[str, Any]:
    """The whole benchmark; returns the figures (see the module docstring)."""
    from backbeat.audio.lavalink.tracks import load_result
    from backbeat.db.engine import create_engine
    from backbeat.db.migrate import migrate_to
    from backbeat.testing.backends import (
        create_database,
        delete_redis_prefix,
        drop_database,
        new_run_id,
    )
    from backbeat.testing.lavalink.catalog import Catalog

    options.workdir.mkdir(parents=True, exist_ok=True)
    run_id = new_run_id()
    db_url = await create_database("postgresql", f"backbeat_tp_{run_id}", sqlite_dir=Path("/tmp"))
    prefix = f"bbtp:{run_id}:"
    engine = create_engine(db_url, pool_size=8)
    await migrate_to(engine, "head")
    config = BusConfig(partitions=PARTITIONS, block_ms=200, batch=200, lease_ttl_ms=10_000)
    bus = redis_bus(redis_url, prefix=prefix, config=config)
    emulator, node = await _start_emulator(options.workdir / "emulator.log")
    catalog = Catalog.default()
    playable = [t for t in catalog.tracks if t.youtube_id and not t.failure and not t.is_stream]
    playable.sort(key=lambda t: -t.duration_ms)  # long tracks: nothing ends in the window
    urls = [f"https://www.youtube.com/watch?v={t.youtube_id}" for t in playable[:QUEUE_TRACKS]]
    driver = Driver(bus, urls)
    tasks = [asyncio.create_task(driver.gateway()), asyncio.create_task(driver.ui())]
    worker: _Worker | None = None
    http = aiohttp.ClientSession()
    try:
        tracks = []
        for url in urls:
            async with http.get(
                f"{node['rest']}/v4/loadtracks",
                params={"identifier": url},
                headers={"Authorization": PASSWORD},
            ) as response:
                tracks.append(load_result(await response.json()).tracks[0])
        guilds = [FIRST_GUILD + n for n in range(options.guilds)]
        await _seed(engine, tracks, guilds)
        await asyncio.sleep(0.5)  # the taps listen
        process = await asyncio.to_thread(
            subprocess.Popen,
            [sys.executable, "-m", "backbeat.benchmark.throughput", "worker", redis_url, prefix,
             db_url, node["rest"]],
            stdout=subprocess.PIPE,
            stderr=(options.workdir / "worker.log").open("wb"),
        )  # fmt: skip
        worker = _Worker(process)
        tasks.append(asyncio.create_task(worker.follow()))
        await asyncio.wait_for(worker.lines.get(), 120)  # its signal handler is installed
        started = time.perf_counter()
        while True:
            await asyncio.sleep(1.0)
            if process.poll() is not None:
                raise RuntimeError(f"the worker exited: see {options.workdir / 'worker.log'}")
            status = await worker.status()
            if status["owned"] == PARTITIONS and not status["pending"]:
                async with http.get(f"{node['control']}/players") as response:
                    players = await response.json()
                if sum(1 for p in players if p["track"]) >= len(guilds):
                    break
            if time.perf_counter() - started > options.setup_timeout_s:
                raise RuntimeError("the worker did not restore every guild in time")
        restore_s = time.perf_counter() - started
        probes, loaded = guilds[:PROBES], guilds[PROBES:]

        # saturation
        groups = {
            "worker": [process.pid],
            "emulator": [emulator.pid],
            "driver": [os.getpid()],
            "redis": pids_named("redis-server"),
            "postgresql": pids_named("postgres"),
        }
        sampler = CpuSampler(groups, rss_pid=process.pid)
        sampler.begin()
        before = await worker.status()
        spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
        profiler = None
        raw = options.workdir / "profile.raw"
        if options.profile and os.access(spy, os.X_OK):
            profiler = await asyncio.create_subprocess_exec(
                spy, "record", "-p", str(process.pid), "-d", str(int(options.saturate_s)),
                "-r", "50", "-f", "raw", "-o", str(raw), "--nonblocking",
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
            )  # fmt: skip
        window_start = time.perf_counter()
        answered_before = len(driver.answered)
        ids = await driver.offer(loaded, options.saturate_rate, options.saturate_s)
        window = time.perf_counter() - window_start
        answered_in_window = len(driver.answered) - answered_before
        after = await worker.status()
        sampler.sample()
        measured = sampler.result()
        cpu = measured.cpu_percent
        if profiler is not None:
            await profiler.wait()
        await driver.wait_answered(ids, 600)
        drained_at = max(driver.answered[i] for i in ids)
        first = min(driver.sent[i] for i in ids)
        total_rate = len(ids) / (drained_at - first)
        rate = answered_in_window / window
        delta = {k: after[k] - before[k] for k in after if isinstance(after[k], (int, float))}
        handled = max(1.0, delta["handled"])
        reply_ms = [1000 * (driver.answered[i] - driver.sent[i]) for i in ids]

        # latency at a share of the measured rate, with probes
        offered = max(100.0, options.latency_share * total_rate)
        load = asyncio.create_task(driver.offer(loaded, offered, options.latency_s))
        to_ui: list[float] = []
        while not load.done():
            found = await asyncio.gather(*(driver.probe(g) for g in probes))
            to_ui += [1000 * v for v in found if v is not None]
        latency_ids = await load
        await driver.wait_answered(latency_ids, 600)
        latency_reply = [1000 * (driver.answered[i] - driver.sent[i]) for i in latency_ids]
        kinds = collections.Counter(driver.kinds[i] for i in ids)
        return {
            "guilds": len(guilds),
            "restore_s": round(restore_s, 1),
            "mix": mix_text(),
            "mix_measured": {k: round(v / len(ids), 3) for k, v in sorted(kinds.items())},
            "saturation": {
                "offered_per_s": options.saturate_rate,
                "window_s": round(window, 1),
                "commands": len(ids),
                "answered_in_window": answered_in_window,
                "commands_per_s": round(rate, 1),
                "commands_per_s_to_drain": round(total_rate, 1),
                "refused_share": round(driver.refused / max(1, len(driver.answered)), 3),
                "reply_p50_ms": round(percentile(reply_ms, 0.5), 1),
                "reply_p99_ms": round(percentile(reply_ms, 0.99), 1),
                "transactions_per_s": round(delta["sql_commits"] / window, 1),
                "sql_statements_per_command": round(delta["sql_statements"] / handled, 2),
                "commands_per_transaction": round(handled / max(1, delta["sql_commits"]), 2),
                "commands_per_batch_transaction": round(
                    delta["batch_commands"] / max(1, delta["batch_transactions"]), 2
                ),
                "batched_share": round(delta["batch_commands"] / handled, 3),
                "redis_round_trips_per_command": round(delta["redis_round_trips"] / handled, 3),
                "publishes_per_round_trip": round(
                    delta["published"] / max(1, delta["publish_round_trips"]), 2
                ),
                "cpu_percent": cpu,
                "worker_rss_mb": measured.rss_mb,
            },
            "latency": {
                "offered_per_s": round(offered, 1),
                "commands": len(latency_ids),
                "probe_samples": len(to_ui),
                "to_ui_p50_ms": round(percentile(to_ui, 0.5), 1),
                "to_ui_p99_ms": round(percentile(to_ui, 0.99), 1),
                "reply_p50_ms": round(percentile(latency_reply, 0.5), 1),
                "reply_p99_ms": round(percentile(latency_reply, 0.99), 1),
            },
            "profile": summarize_profile(raw) if profiler is not None and raw.exists() else None,
        }
    finally:
        await http.close()
        if worker is not None:
            worker.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.to_thread(worker.process.wait, 30)
            except subprocess.TimeoutExpired:
                worker.process.kill()
        emulator.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            await asyncio.to_thread(emulator.wait, 10)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await bus.close()
        await engine.dispose()
        await drop_database("postgresql", db_url)
        await delete_redis_prefix(redis_url, prefix)


def _worker_entry(argv: list[str]) -> None:
    redis_url, prefix, db_url, node_url = argv
    asyncio.run(worker_main(redis_url, prefix, db_url, node_url))


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "worker":
        _worker_entry(sys.argv[2:])
    else:
        raise SystemExit(
            "usage: python -m backbeat.benchmark.throughput worker REDIS PREFIX DB NODE"
        )


__all__ = ["MIX", "Driver", "Options", "mix_text", "run"]
