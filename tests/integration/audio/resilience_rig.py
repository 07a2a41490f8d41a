"""Worker processes, an in-process rig that takes players over, and a playback monitor for
the resilience tests.

:class:`TakeoverRig` is the :class:`~audio_rig.AudioRig` whose workers know the node's
address (so they take another session's players over by REST) and use a short Lavalink
resume timeout (so a dead worker's session expires soon).

:class:`WorkerProcess` runs ``audio_worker_process.py`` (a real audio worker over Redis and
SQL) and reads what it prints (``started``, ``owned P,… T``, ``stopped T``).
:class:`PlaybackMonitor` polls the Lavalink emulator (in this process, real-time clock) and
records, per guild, when a player was sounding (track, voice connected, not paused), the
longest silence after it first sounded and whether two players ever sounded at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from audio_rig import AUDIO_BUS_CONFIG, BOT, WAIT, AudioRig
from pydantic import SecretStr

from backbeat.audio.lavalink import LavalinkPlayers
from backbeat.audio.worker import AudioWorker
from backbeat.bus.interface import BusConfig
from backbeat.config import LavalinkNode
from backbeat.testing.lavalink.server import LavalinkEmulator

SCRIPT = Path(__file__).with_name("audio_worker_process.py")


class TakeoverRig(AudioRig):
    """An :class:`AudioRig` whose workers take players over (``resume_timeout_s`` short)."""

    resume_timeout_s = 2

    async def start_worker(self) -> None:
        holder: list[AudioWorker] = []

        async def voice_request(guild_id: int, channel_id: int | None) -> None:
            await holder[0].audio.voice_request(guild_id, channel_id)

        nodes = [
            LavalinkNode(
                name="node-0",
                url=f"http://{self.emulator.host}:{self.emulator.port}",
                password=SecretStr(self.emulator.password),
            )
        ]
        players = LavalinkPlayers(
            user_id=BOT,
            nodes=nodes,
            voice_request=voice_request,
            voice_connect_timeout_s=self.settings.voice_connect_timeout_s,
            resume_timeout_s=self.resume_timeout_s,
        )
        worker = AudioWorker(
            bus=self.bus,
            engine=self.engine,
            players=players,
            settings=self.settings,
            bot_user_id=BOT,
            worker_id=self.worker_id,
            resolver=self.resolver,
            nodes=nodes,
            resume_timeout_s=self.resume_timeout_s,
        )
        holder.append(worker)
        await players.start()
        self.players, self.worker = players, worker
        self.worker_task = asyncio.create_task(worker.run())
        deadline = time.monotonic() + WAIT
        while not (await players.ready() and worker.owned):
            if time.monotonic() > deadline:
                raise AssertionError("the worker did not get ready (node and leases)")
            await asyncio.sleep(0.02)

    async def restored(self, wait: float = WAIT) -> None:
        """Wait until the worker's restores (and their waits for old sessions) are done."""
        deadline = time.monotonic() + wait
        while (
            self.worker is None
            or self.worker.lease_worker.consuming != self.worker.owned
            or self.worker.restorer.pending
        ):
            if time.monotonic() > deadline:
                raise AssertionError("restore not finished")
            await asyncio.sleep(0.05)


class WorkerProcess:
    """One audio worker subprocess."""

    def __init__(self, process: asyncio.subprocess.Process, worker_id: str) -> None:
        self.process = process
        self.worker_id = worker_id
        self.lines: list[str] = []
        self.owned: list[tuple[frozenset[int], float]] = []
        self._changed = asyncio.Event()
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def start(
        cls,
        *,
        worker_id: str,
        redis_url: str,
        prefix: str,
        db_url: str,
        emulator: LavalinkEmulator,
        config: BusConfig = AUDIO_BUS_CONFIG,
        resume_timeout_s: int = 60,
        extra: tuple[str, ...] = (),
    ) -> WorkerProcess:
        fields = [f"{f.name}={getattr(config, f.name)}" for f in dataclasses.fields(config)]
        process = await asyncio.create_subprocess_exec(
            sys.executable, str(SCRIPT),
            "--redis", redis_url, "--prefix", prefix, "--db", db_url,
            "--node", f"http://{emulator.host}:{emulator.port}",
            "--password", emulator.password, "--worker-id", worker_id,
            "--resume-timeout", str(resume_timeout_s), *extra, "--bus-config", *fields,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        worker = cls(process, worker_id)
        await worker.wait_line(lambda line: line == "started", 60)
        return worker

    async def _read(self) -> None:
        assert self.process.stdout is not None
        while line := await self.process.stdout.readline():
            text = line.decode(errors="replace").strip()
            self.lines.append(text)
            if text.startswith("owned "):
                _, parts, at = text.split()
                owned = frozenset() if parts == "-" else frozenset(map(int, parts.split(",")))
                self.owned.append((owned, float(at)))
            self._changed.set()

    async def wait_line(self, match: Callable[[str], bool], wait: float = 30) -> str:
        deadline = time.monotonic() + wait
        while True:
            for line in self.lines:
                if match(line):
                    return line
            if self.process.returncode is not None and self._reader.done():
                raise AssertionError(f"{self.worker_id} exited ({self.process.returncode})")
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{self.worker_id}: no matching line in {wait} s")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(left, 0.5))

    async def wait_owned(self, partitions: frozenset[int], wait: float = 30) -> float:
        """The unix time at which the worker first consumed exactly ``partitions``."""
        deadline = time.monotonic() + wait
        while True:
            for owned, at in self.owned:
                if owned == partitions:
                    return at
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.worker_id} never owned {sorted(partitions)}")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), 0.5)

    def terminate(self) -> float:
        self.process.send_signal(signal.SIGTERM)
        return time.time()

    def kill(self) -> None:
        if self.process.returncode is None:
            self.process.kill()

    async def close(self) -> None:
        self.kill()
        await self.process.wait()
        with contextlib.suppress(Exception):
            await self._reader


@dataclasses.dataclass
class GuildPlayback:
    #: When the guild's first sounding track started, in seconds of the emulator's clock:
    #: the first poll that saw it minus the position it reported, so a late poll (a busy
    #: machine) does not move it. The other times are the polls' own.
    first_sounded: float | None = None
    last_sounded: float | None = None
    longest_gap_s: float = 0.0
    overlaps: int = 0
    sessions: set[str] = dataclasses.field(default_factory=set)


class PlaybackMonitor:
    """Polls the emulator's players every ``interval_s`` (on its real-time clock)."""

    def __init__(self, emulator: LavalinkEmulator, interval_s: float = 0.01) -> None:
        self.emulator = emulator
        self.interval_s = interval_s
        self.guilds: dict[int, GuildPlayback] = {}
        self.latest: dict[int, list[dict[str, Any]]] = {}
        self.latest_at_s = 0.0  # the emulator's clock at the poll ``latest`` comes from
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            now = (await self.emulator.control.clock())["nowMs"] / 1000
            sounding: dict[int, list[dict[str, Any]]] = {}
            for player in await self.emulator.control.players():
                on = (
                    player["track"] is not None
                    and not player["paused"]
                    and player["state"].get("connected")
                )
                if on:
                    sounding.setdefault(int(player["guildId"]), []).append(player)
            self.latest, self.latest_at_s = sounding, now
            for guild_id, record in self.guilds.items():
                players = sounding.get(guild_id, [])
                if len(players) > 1:
                    record.overlaps += 1
                if players:
                    record.sessions.update(p["sessionId"] for p in players)
                    if record.last_sounded is not None:
                        record.longest_gap_s = max(record.longest_gap_s, now - record.last_sounded)
                    if record.first_sounded is None:
                        record.first_sounded = now - int(players[0]["state"]["position"]) / 1000
                    record.last_sounded = now
            await asyncio.sleep(self.interval_s)

    def watch(self, guild_id: int) -> None:
        self.guilds.setdefault(guild_id, GuildPlayback())

    def session_of(self, guild_id: int) -> str | None:
        players = self.latest.get(guild_id, [])
        return players[0]["sessionId"] if len(players) == 1 else None

    def position_of(self, guild_id: int) -> int | None:
        players = self.latest.get(guild_id, [])
        return int(players[0]["state"]["position"]) if len(players) == 1 else None

    def drift_ms(self, guild_id: int) -> float | None:
        """How far the guild's position at the latest poll is from its timeline (the time
        since its first track started, on the emulator's clock, both read in one poll):
        positive when ahead. None without a start or a single sounding player."""
        position = self.position_of(guild_id)
        started = self.guilds[guild_id].first_sounded
        if position is None or started is None:
            return None
        return position - (self.latest_at_s - started) * 1000

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


class TcpProxy:
    """A TCP proxy the test can cut (every connection closed, new ones refused) and restore,
    between workers and a database server that must never be restarted itself."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = 0
        self.is_cut = False
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._pipes: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.is_cut:
            writer.close()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self._writers.update((writer, up_writer))
        for source, sink in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pipe(source, sink))
            self._pipes.add(task)
            task.add_done_callback(self._pipes.discard)

    async def _pipe(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        try:
            while data := await source.read(65536):
                sink.write(data)
                await sink.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            sink.close()
            self._writers.discard(sink)

    def cut(self) -> None:
        self.is_cut = True
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    def restore(self) -> None:
        self.is_cut = False

    async def close(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for task in list(self._pipes):
            task.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)
