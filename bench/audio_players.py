"""Benchmark: live players per audio worker (CPU, RSS, command latency under playerUpdates).

Setup, three processes besides Redis and PostgreSQL (both local and shared):

- the **Lavalink emulator** (``python -m backbeat.testing.lavalink``, real-time clock,
  ``playerUpdate`` every 5 s per player);
- one **audio worker** (this script's ``worker`` role: an ``AudioWorker`` over Redis and
  PostgreSQL with ``LavalinkPlayers`` on the emulator, 16 partitions, logging at INFO);
- this **driver**: it seeds ``--players`` guild sessions in SQL as a worker leaves them (in a
  voice channel, a current track, a recorded position), answers the worker's ``voice-join``
  as a gateway would (the raw voice state and server events over the bus), and measures.

Each step of ``--steps`` (default 1,000 then 10,000 players) is a fresh database, emulator and
worker. The worker starts, gains every partition and restores every player through its real
code (voice handshake over the bus, play at the extrapolated position): that is the set-up,
timed (the restore rate). Once every player sounds on the emulator the driver samples, over
``--window`` seconds of steady ``playerUpdate``s, the CPU (``/proc``) of the worker, the
emulator, Redis and every PostgreSQL process, and the worker's RSS; meanwhile it sends a
trickle of ``volume`` commands (``--rate`` per second, random guilds) and times each from the
publish to the guild's next ``ui:now`` snapshot. Then, with ``--profile``, py-spy (if
``--py-spy`` names its binary) samples the worker for ``--profile-s`` seconds: the top
functions by own and total time go in the report. The worker also reports, once a second,
its event loop's longest block (a 10 ms sleep's overshoot) and its full garbage collections;
``--memory`` makes it dump its objects by type (count, size) and tasks after the restore,
``--tracemalloc`` its allocations' top lines too, into the ``BENCH_WORKDIR`` (default: a
temporary directory, removed at the end).

Writes ``bench/reports/audio_players.md`` and ``.json``.

    .venv/bin/python bench/audio_players.py [--steps 1000,10000] [--window 60]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import os
import platform
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp

from backbeat.benchmark.report import percentile
from backbeat.benchmark.sampling import CpuSampler, pids_named, rss_mb
from backbeat.benchmark.standin import VoiceJoinAnswers

REPORTS = Path(__file__).parent / "reports"
BOT = 424_242
PARTITIONS = 16
FIRST_GUILD = 1_000_000_000
PASSWORD = "bench-pw"


# ----- the worker process --------------------------------------------------------------------


async def worker_main(args: argparse.Namespace) -> None:
    """One audio worker as ``backbeat run audio`` composes it, on the emulator node."""
    from pydantic import SecretStr

    from backbeat.audio.lavalink import LavalinkPlayers
    from backbeat.audio.worker import AudioWorker
    from backbeat.bus import BusConfig, redis_bus
    from backbeat.config import AudioSettings, LavalinkNode
    from backbeat.db.engine import create_engine
    from backbeat.observability.logging import configure_logging

    configure_logging(level="INFO", fmt="json")
    config = BusConfig(partitions=PARTITIONS, block_ms=args.block_ms)
    bus = redis_bus(args.redis, prefix=args.prefix, config=config)
    engine = create_engine(args.db)
    holder: list[AudioWorker] = []

    async def voice_request(guild_id: int, channel_id: int | None) -> None:
        await holder[0].audio.voice_request(guild_id, channel_id)

    nodes = [LavalinkNode(name="bench", url=args.node, password=SecretStr(PASSWORD))]
    players = LavalinkPlayers(
        user_id=BOT, nodes=nodes, voice_request=voice_request, voice_connect_timeout_s=60
    )
    worker = AudioWorker(
        bus=bus,
        engine=engine,
        players=players,
        settings=AudioSettings(url_allowlist=["www.youtube.com"], voice_connect_timeout_s=60),
        bot_user_id=BOT,
        worker_id="audio-bench-players",
        nodes=nodes,
    )
    holder.append(worker)
    await players.start()
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    run = asyncio.create_task(worker.run())

    import gc

    gc_pauses: list[float] = []
    gc_started = [0.0]

    def gc_timer(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            gc_started[0] = time.perf_counter()
        elif info.get("generation") == 2:
            gc_pauses.append(time.perf_counter() - gc_started[0])

    gc.callbacks.append(gc_timer)

    async def report() -> None:
        """Once a second: partitions, restores pending, and the event loop's longest lag
        (a 10 ms sleep's overshoot: how long the loop was blocked)."""
        while True:
            lag = 0.0
            until = loop.time() + 1.0
            while loop.time() < until:
                before = loop.time()
                await asyncio.sleep(0.01)
                lag = max(lag, loop.time() - before - 0.01)
            print(
                json.dumps(
                    {
                        "owned": len(worker.lease_worker.consuming),
                        "pending": len(worker.restorer.pending),
                        "guilds": len(worker.audio.guilds),
                        "lag_ms": round(lag * 1000, 1),
                        "gc2_ms": round(max(gc_pauses, default=0.0) * 1000, 1),
                        "gc2_count": len(gc_pauses),
                    }
                ),
                flush=True,
            )

    def dump_memory() -> None:
        """Object counts and sizes by type (gc-tracked objects and the untracked ones they
        hold: str, bytes, int …), the tasks, and with tracemalloc its top lines."""
        import gc
        import tracemalloc

        with open(args.memory_dump, "w", encoding="utf-8") as out:
            tasks = collections.Counter(
                getattr(t.get_coro(), "__qualname__", "?") for t in asyncio.all_tasks()
            )
            out.write(f"tasks: {len(asyncio.all_tasks())} {tasks.most_common(15)}\n")
            counts: collections.Counter[str] = collections.Counter()
            sizes: collections.Counter[str] = collections.Counter()
            seen: set[int] = set()
            frozen = gc.get_freeze_count()
            gc.unfreeze()  # frozen objects are not listed
            tracked = gc.get_objects()
            for obj in tracked:
                name = type(obj).__name__
                counts[name] += 1
                sizes[name] += sys.getsizeof(obj)
                for held in gc.get_referents(obj):
                    if not gc.is_tracked(held) and id(held) not in seen:
                        seen.add(id(held))
                        counts[type(held).__name__] += 1
                        sizes[type(held).__name__] += sys.getsizeof(held)
            out.write(f"objects: {len(tracked)} tracked, {sum(sizes.values()) / 2**20:.1f} MiB\n")
            for name, size in sizes.most_common(60):
                out.write(f"{size / 1024:10.1f} KiB {counts[name]:8d} {name}\n")
            del tracked
            if frozen:
                gc.freeze()
            if tracemalloc.is_tracing():
                snapshot = tracemalloc.take_snapshot()
                current, peak = tracemalloc.get_traced_memory()
                out.write(f"traced now {current / 2**20:.1f} MiB, peak {peak / 2**20:.1f} MiB\n")
                for stat in snapshot.statistics("filename")[:40]:
                    out.write(f"{stat.size / 1024:10.1f} KiB {stat.count:8d} {stat.traceback}\n")
                for stat in snapshot.statistics("lineno")[:60]:
                    out.write(f"{stat.size / 1024:10.1f} KiB {stat.count:8d} {stat.traceback}\n")
        sys._debugmallocstats()  # pymalloc arenas and pools, to the worker's stderr
        if args.trim:  # what glibc gives back of its heap after a collection
            import ctypes

            before = rss_mb(os.getpid())
            gc.collect()
            ctypes.CDLL("libc.so.6").malloc_trim(0)
            with open(args.memory_dump, "a", encoding="utf-8") as out:
                out.write(f"malloc_trim: RSS {before:.1f} -> {rss_mb(os.getpid()):.1f} MB\n")

    if args.memory_dump:
        loop.add_signal_handler(signal.SIGUSR1, dump_memory)
    reporter = asyncio.create_task(report())
    await stop.wait()
    reporter.cancel()
    run.cancel()
    await asyncio.gather(run, reporter, return_exceptions=True)
    await players.close()
    await bus.close()
    await engine.dispose()


# ----- the driver ----------------------------------------------------------------------------


class Driver:
    """The stand-in gateway, the ui:now tap and the command trickle."""

    def __init__(self, bus: Any) -> None:
        self.bus = bus
        self.answers = VoiceJoinAnswers(bus, BOT)
        self._ui_waiters: dict[int, asyncio.Future[float]] = {}

    async def gateway(self) -> None:
        from backbeat.domain.messages import Channel

        async with self.bus.tap(Channel.TO_DISCORD) as tap:
            async for message in tap:
                self.answers.offer(message)

    async def ui(self) -> None:
        from backbeat.domain.messages import Channel

        async with self.bus.tap(Channel.UI_NOW) as tap:
            async for message in tap:
                now = time.perf_counter()
                waiter = self._ui_waiters.pop(message.guild_id, None)
                if waiter is not None and not waiter.done():
                    waiter.set_result(now)

    async def volume(self, guild: int, percent: int) -> float | None:
        """Publish a volume command; seconds until the guild's next ui:now (None: none in 10 s)."""
        from backbeat.domain.messages import Channel, DiscordContext, InteractionRef
        from backbeat.domain.messages.commands import Volume, VolumePayload

        context = DiscordContext(
            user_id=4_200_001,
            text_channel_id=9_500,
            voice_channel_id=9_001,
            interaction=InteractionRef(id=1, token="t", application_id=BOT, created_at=time.time()),
        )
        shown: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._ui_waiters[guild] = shown
        started = time.perf_counter()
        await self.bus.publish(
            Channel.COMMANDS,
            Volume(guild_id=guild, context=context, payload=VolumePayload(percent=percent)),
        )
        try:
            return await asyncio.wait_for(shown, 10) - started
        except TimeoutError:
            self._ui_waiters.pop(guild, None)
            return None


async def _seed(engine: Any, track: Any, guilds: list[int]) -> None:
    from backbeat.db.repositories.queue import QueueRepository
    from backbeat.db.types import utc_now
    from backbeat.domain.queue import NewQueueItem

    queue = QueueRepository(engine)
    now = utc_now()

    async def one(guild: int) -> None:
        await queue.append(guild_id=guild, item=NewQueueItem(track=track, requester_id=1))
        await queue.set_session(
            guild_id=guild,
            voice_channel_id=9_001,
            text_channel_id=9_500,
            position_ms=10_000 + guild % 50_000,
            position_at=now,
        )

    for start in range(0, len(guilds), 64):
        await asyncio.gather(*(one(g) for g in guilds[start : start + 64]))


async def _sounding(http: aiohttp.ClientSession, control: str) -> int:
    async with http.get(f"{control}/players") as response:
        players = await response.json()
    return sum(1 for p in players if p["track"] and not p["paused"] and p["state"].get("connected"))


async def _start_emulator(log: Path) -> tuple[subprocess.Popen[bytes], dict[str, str]]:
    process = await asyncio.to_thread(
        subprocess.Popen,
        [
            sys.executable,
            "-m",
            "backbeat.testing.lavalink",
            "--port",
            "0",
            "--password",
            PASSWORD,
            "--log-level",
            "WARNING",
        ],
        stdout=subprocess.PIPE,
        stderr=log.open("wb"),
    )
    assert process.stdout is not None
    line = await asyncio.to_thread(process.stdout.readline)
    if not line:
        raise RuntimeError(f"the emulator did not start: see {log}")
    return process, json.loads(line)


def _profile(py_spy: str, pid: int, seconds: int, out: Path) -> dict[str, Any]:
    """py-spy's raw (collapsed) stacks of the worker, summed into own and total time."""
    subprocess.run(
        [
            py_spy,
            "record",
            "-p",
            str(pid),
            "-d",
            str(seconds),
            "-r",
            "100",
            "-f",
            "raw",
            "-o",
            str(out),
            "--nonblocking",
        ],
        check=True,
        capture_output=True,
    )
    own: collections.Counter[str] = collections.Counter()
    total: collections.Counter[str] = collections.Counter()
    samples = 0
    for line in out.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        count = int(count_text)
        frames = [
            f.split(" (")[0] + " (" + f.split(" (")[1].split(":")[0].rsplit("/", 1)[-1] + ")"
            if " (" in f
            else f
            for f in stack.split(";")
        ]
        samples += count
        own[frames[-1]] += count
        for frame in set(frames):
            total[frame] += count
    idle = sum(c for f, c in own.items() if "select (selectors" in f or "poll (" in f)
    return {
        "samples": samples,
        "idle_share": round(idle / samples, 3) if samples else 0.0,
        "own": [(f, round(c / samples, 3)) for f, c in own.most_common(25)],
        "total": [(f, round(c / samples, 3)) for f, c in total.most_common(40)],
    }


async def measure_players(args: argparse.Namespace, players: int, workdir: Path) -> dict[str, Any]:
    """One step: a fresh database, emulator and worker with ``players`` players restored,
    then the window; the figures of one column of the report."""
    from backbeat.audio.lavalink.tracks import load_result
    from backbeat.bus import BusConfig, redis_bus
    from backbeat.db.engine import create_engine
    from backbeat.db.migrate import migrate_to
    from backbeat.testing.backends import (
        create_database,
        delete_redis_prefix,
        drop_database,
        new_run_id,
        server_url,
    )
    from backbeat.testing.lavalink.catalog import Catalog

    run = new_run_id()
    db_url = await create_database("postgresql", f"backbeat_bench_{run}", sqlite_dir=Path("/tmp"))
    prefix = f"bbbench:{run}:"
    redis_url = server_url("redis")
    engine = create_engine(db_url, pool_size=16)
    await migrate_to(engine, "head")
    config = BusConfig(partitions=PARTITIONS, block_ms=args.block_ms)
    bus = redis_bus(redis_url, prefix=prefix, config=config)
    emulator, urls = await _start_emulator(workdir / f"emulator-{players}.log")
    driver = Driver(bus)
    tasks = [asyncio.create_task(driver.gateway()), asyncio.create_task(driver.ui())]
    worker: subprocess.Popen[bytes] | None = None
    http = aiohttp.ClientSession()
    try:
        catalog = Catalog.default()
        playable = [t for t in catalog.tracks if t.youtube_id and not t.failure and not t.is_stream]
        longest = max(playable, key=lambda t: t.duration_ms)
        async with http.get(
            f"{urls['rest']}/v4/loadtracks",
            params={"identifier": f"https://www.youtube.com/watch?v={longest.youtube_id}"},
            headers={"Authorization": PASSWORD},
        ) as response:
            track = load_result(await response.json()).tracks[0]
        guilds = [FIRST_GUILD + n for n in range(players)]
        seeded_at = time.perf_counter()
        await _seed(engine, track, guilds)
        seed_s = time.perf_counter() - seeded_at
        await asyncio.sleep(0.5)  # the taps listen

        worker_log = (workdir / f"worker-{players}.log").open("wb")
        started = time.perf_counter()
        worker = await asyncio.to_thread(
            subprocess.Popen,
            [
                sys.executable,
                __file__,
                "worker",
                "--redis",
                redis_url,
                "--prefix",
                prefix,
                "--db",
                db_url,
                "--node",
                urls["rest"],
                *(
                    ["--memory-dump", str(workdir / f"memory-{players}.txt")]
                    if args.memory or args.tracemalloc
                    else []
                ),
                *(["--trim"] if args.trim else []),
                "--block-ms",
                str(args.block_ms),
            ],
            env={**os.environ, **({"PYTHONTRACEMALLOC": "1"} if args.tracemalloc else {})},
            stdout=subprocess.PIPE,
            stderr=worker_log,
        )
        assert worker.stdout is not None
        status: dict[str, Any] = {}
        lags: list[float] = []
        gcs: list[tuple[int, float]] = []

        async def follow() -> None:
            assert worker is not None
            assert worker.stdout is not None
            while True:
                line = await asyncio.to_thread(worker.stdout.readline)
                if not line:
                    return
                with contextlib.suppress(ValueError):
                    status.update(json.loads(line))
                    lags.append(float(status.get("lag_ms", 0.0)))
                    gcs.append((int(status.get("gc2_count", 0)), float(status.get("gc2_ms", 0.0))))

        tasks.append(asyncio.create_task(follow()))
        sounding = 0
        while True:
            await asyncio.sleep(2.0)
            if worker.poll() is not None:
                raise RuntimeError(f"the worker exited: see {worker_log.name}")
            if status.get("owned") == PARTITIONS and not status.get("pending", 1):
                sounding = await _sounding(http, urls["control"])
                if sounding >= players:
                    break
            if time.perf_counter() - started > args.setup_timeout:
                sounding = await _sounding(http, urls["control"])
                break
        restore_s = time.perf_counter() - started
        print(f"[{players}] restored {sounding} in {restore_s:.1f} s", flush=True)
        await asyncio.sleep(args.settle)
        if args.memory or args.tracemalloc:
            worker.send_signal(signal.SIGUSR1)
            await asyncio.sleep(5.0)

        sampler = CpuSampler(
            {
                "worker": [worker.pid],
                "emulator": [emulator.pid],
                "redis": pids_named("redis-server"),
                "postgresql": pids_named("postgres"),
                "driver": [os.getpid()],
            },
            worker.pid,
        )
        rng = random.Random(players)
        latencies: list[float] = []
        missing = 0
        sampler.begin()
        lags.clear()
        gc_before = gcs[-1][0] if gcs else 0
        deadline = time.monotonic() + args.window
        next_sample = time.monotonic() + 1.0
        interval = 1.0 / args.rate
        while time.monotonic() < deadline:
            shown = await driver.volume(rng.choice(guilds), rng.randint(10, 150))
            if shown is None:
                missing += 1
            else:
                latencies.append(shown * 1000)
            while time.monotonic() >= next_sample:
                sampler.sample()
                next_sample += 1.0
            await asyncio.sleep(max(0.0, interval - (shown or 0.0)))
        sampler.sample()
        window = sampler.result()
        measured = {
            "window_s": window.seconds,
            "cpu_percent": window.cpu_percent,
            "cpu_peak_1s_percent": window.cpu_peak_percent,
            "worker_rss_mb": window.rss_mb,
            "worker_rss_max_mb": window.rss_max_mb,
        }
        window_lags = list(lags)
        gc_in_window = (gcs[-1][0] - gc_before) if gcs else 0
        still = await _sounding(http, urls["control"])
        profile: dict[str, Any] | None = None
        if args.py_spy and args.profile_s > 0:
            profile = await asyncio.to_thread(
                _profile, args.py_spy, worker.pid, args.profile_s, workdir / f"spy-{players}.txt"
            )
        result = {
            "players": players,
            "block_ms": args.block_ms,
            "seed_s": round(seed_s, 1),
            "restore_s": round(restore_s, 1),
            "restore_per_s": round(sounding / restore_s, 1) if restore_s else 0.0,
            "sounding": sounding,
            "sounding_after": still,
            **measured,
            "commands": len(latencies) + missing,
            "commands_without_ui": missing,
            "to_ui_p50_ms": round(percentile(latencies, 0.50), 1),
            "to_ui_p99_ms": round(percentile(latencies, 0.99), 1),
            "to_ui_max_ms": round(max(latencies, default=0.0), 1),
            "loop_lag_p50_ms": round(percentile(window_lags, 0.50), 1),
            "loop_lag_p90_ms": round(percentile(window_lags, 0.90), 1),
            "loop_lag_max_ms": round(max(window_lags, default=0.0), 1),
            "gc_full_collections_in_window": gc_in_window,
            "gc_full_longest_ms": gcs[-1][1] if gcs else 0.0,
            "profile": profile,
        }
        print(json.dumps({k: v for k, v in result.items() if k != "profile"}), flush=True)
        return result
    finally:
        if worker is not None and worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
            try:
                await asyncio.to_thread(worker.wait, 20)
            except subprocess.TimeoutExpired:
                worker.kill()
        emulator.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            await asyncio.to_thread(emulator.wait, 20)
        if emulator.poll() is None:
            emulator.kill()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await http.close()
        await bus.close()
        await engine.dispose()
        await drop_database("postgresql", db_url)
        await delete_redis_prefix(redis_url, prefix)


def _report(results: list[dict[str, Any]], command: str) -> str:
    lines = [
        "# Live players per audio worker",
        "",
        f"`{command}` on CPython {platform.python_version()}, {platform.machine()}, "
        f"{os.cpu_count()} cores, shared with other engineers' runs: figures are indicative. "
        "Worker, Lavalink emulator (real-time clock, playerUpdate every 5 s per player) and "
        "driver in processes of their own; Redis and PostgreSQL local. CPU is % of one core "
        "over the window (/proc utime+stime); PostgreSQL sums every postgres process of the "
        "machine (other runs included).",
        "",
        "| measure | " + " | ".join(f"{r['players']:,} players" for r in results) + " |",
        "|---|" + "---|" * len(results),
    ]
    rows: list[tuple[str, Callable[[dict[str, Any]], str]]] = [
        (
            "players sounding (start → end of window)",
            lambda r: f"{r['sounding']:,} → {r['sounding_after']:,}",
        ),
        ("restore: worker start → every player sounding", lambda r: f"{r['restore_s']} s"),
        ("restore rate", lambda r: f"{r['restore_per_s']} players/s"),
        ("window", lambda r: f"{r['window_s']} s"),
        ("bus readers' block", lambda r: f"{r.get('block_ms', 200):,} ms"),
        (
            "worker CPU (peak 1 s)",
            lambda r: f"{r['cpu_percent']['worker']} % ({r['cpu_peak_1s_percent']['worker']} %)",
        ),
        ("worker RSS (max)", lambda r: f"{r['worker_rss_mb']} MB ({r['worker_rss_max_mb']} MB)"),
        ("emulator CPU", lambda r: f"{r['cpu_percent']['emulator']} %"),
        ("Redis CPU", lambda r: f"{r['cpu_percent']['redis']} %"),
        ("PostgreSQL CPU (all processes)", lambda r: f"{r['cpu_percent']['postgresql']} %"),
        ("driver CPU", lambda r: f"{r['cpu_percent']['driver']} %"),
        (
            "trickle commands (no ui:now in 10 s)",
            lambda r: f"{r['commands']} ({r['commands_without_ui']})",
        ),
        ("command → ui:now p50", lambda r: f"{r['to_ui_p50_ms']} ms"),
        ("command → ui:now p99", lambda r: f"{r['to_ui_p99_ms']} ms"),
        ("command → ui:now max", lambda r: f"{r['to_ui_max_ms']} ms"),
        (
            "worker loop blocked, longest per second: p50 / p90 / max",
            lambda r: (
                f"{r['loop_lag_p50_ms']} / {r['loop_lag_p90_ms']} / {r['loop_lag_max_ms']} ms"
            ),
        ),
        (
            "full GC collections in the window (longest since start)",
            lambda r: f"{r['gc_full_collections_in_window']} ({r['gc_full_longest_ms']} ms)",
        ),
    ]
    for label, cell in rows:
        lines.append(f"| {label} | " + " | ".join(cell(r) for r in results) + " |")
    for r in results:
        profile = r.get("profile")
        if not profile:
            continue
        lines += [
            "",
            f"## Worker profile at {r['players']:,} players",
            "",
            f"py-spy, {profile['samples']} samples at 100 Hz (idle, waiting in the selector: "
            f"{profile['idle_share'] * 100:.0f} %). Own time:",
            "",
            "| function | share of samples |",
            "|---|---|",
        ]
        lines += [f"| `{f}` | {s * 100:.1f} % |" for f, s in profile["own"][:15]]
    return "\n".join(lines) + "\n"


def main() -> None:
    from backbeat.bus import BusConfig

    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="role")
    worker = sub.add_parser("worker")
    for name in ("--redis", "--prefix", "--db", "--node"):
        worker.add_argument(name, required=True)
    worker.add_argument("--memory-dump", default="", help="where SIGUSR1 dumps memory figures")
    worker.add_argument("--trim", action="store_true", help="malloc_trim after the dump")
    for role in (parser, worker):
        role.add_argument(
            "--block-ms",
            type=int,
            default=BusConfig().block_ms,
            help="the bus readers' block (default: what ships); every idle reader polls its "
            "partition once per block, so a short one costs the worker CPU",
        )
    parser.add_argument("--steps", default="1000,10000")
    parser.add_argument("--window", type=float, default=60.0)
    parser.add_argument("--settle", type=float, default=10.0, help="seconds after the restore")
    parser.add_argument("--rate", type=float, default=5.0, help="trickle commands per second")
    parser.add_argument("--setup-timeout", type=float, default=900.0)
    parser.add_argument("--py-spy", default=os.environ.get("PY_SPY", ""))
    parser.add_argument("--profile-s", type=int, default=20)
    parser.add_argument("--report", default="audio_players")
    parser.add_argument(
        "--memory", action="store_true", help="dump the worker's objects after the restore"
    )
    parser.add_argument(
        "--tracemalloc", action="store_true", help="also trace the worker's allocations (slow)"
    )
    parser.add_argument(
        "--trim", action="store_true", help="with --memory: malloc_trim after the dump"
    )
    args = parser.parse_args()
    if args.role == "worker":
        asyncio.run(worker_main(args))
        return

    from backbeat.observability.logging import configure_logging

    configure_logging(level="WARNING")
    steps = [int(s) for s in args.steps.split(",")]
    with tempfile.TemporaryDirectory(prefix="bench-players-") as tmp:
        workdir = Path(os.environ.get("BENCH_WORKDIR", tmp))
        workdir.mkdir(parents=True, exist_ok=True)
        results = [asyncio.run(measure_players(args, n, workdir)) for n in steps]
    command = "python bench/audio_players.py " + " ".join(sys.argv[1:])
    REPORTS.mkdir(exist_ok=True)
    (REPORTS / f"{args.report}.json").write_text(json.dumps(results, indent=2) + "\n")
    (REPORTS / f"{args.report}.md").write_text(_report(results, command.strip()))
    print(_report(results, command.strip()))


if __name__ == "__main__":
    main()
