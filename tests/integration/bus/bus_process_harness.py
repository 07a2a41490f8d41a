"""Worker subprocesses (``bus_worker_process.py``) and what their records prove.

:class:`Cluster` starts, SIGTERMs and SIGKILLs workers with stable ids over one Redis bus
and reads their append-only records; the checks below turn records into failures:

- :func:`start_order_violations`: per guild, handler starts in time order must never go
  back to a smaller sequence number. A reader that takes back the oldest unacknowledged
  entry first can only repeat the entry in hand (``1 2 3 3 4``), never return to it after
  newer ones (``1 2 3 4 5 3``, the take-back inversion). Implies "first handled in
  publish order".
- :func:`missing`: messages that no worker finished.
- :func:`overlaps`: two workers inside a handler of one guild at the same time; a handler
  cut by SIGKILL counts as running until the parent saw its process dead.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis

from backbeat.bus.keys import DEFAULT_GROUPS, Keys
from backbeat.bus.streams import StreamBus
from backbeat.domain.messages import Channel
from backbeat.testing.bus_fixtures import play

WORKER_SCRIPT = Path(__file__).with_name("bus_worker_process.py")


@dataclass
class Worker:
    worker_id: str
    process: subprocess.Popen[bytes]
    record: Path
    life: int
    died_at: float | None = None


@dataclass
class Cluster:
    """Worker processes over one Redis URL and key prefix, records under ``directory``."""

    url: str
    prefix: str
    directory: Path
    partitions: int = 4
    ttl_ms: int = 1500
    handle_ms: float = 0.0
    db_url: str | None = None
    running: dict[str, Worker] = field(default_factory=dict)
    lives: list[Worker] = field(default_factory=list)

    def start(self, worker_id: str, *extra: str) -> Worker:
        assert worker_id not in self.running, f"{worker_id} already runs"
        life = sum(1 for w in self.lives if w.worker_id == worker_id)
        record = self.directory / f"{worker_id}.{life}.jsonl"
        command = [
            sys.executable,
            str(WORKER_SCRIPT),
            "--url", self.url,
            "--prefix", self.prefix,
            "--worker", worker_id,
            "--record", str(record),
            "--partitions", str(self.partitions),
            "--ttl-ms", str(self.ttl_ms),
            "--handle-ms", str(self.handle_ms),
            *(["--db-url", self.db_url] if self.db_url else []),
            *extra,
        ]  # fmt: skip
        log = (self.directory / f"{worker_id}.{life}.log").open("wb")
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        worker = Worker(worker_id, process, record, life)
        self.running[worker_id] = worker
        self.lives.append(worker)
        return worker

    def kill(self, worker_id: str) -> None:
        """SIGKILL: a crash, nothing in hand acknowledged."""
        worker = self.running.pop(worker_id)
        worker.process.send_signal(signal.SIGKILL)
        worker.process.wait()
        worker.died_at = time.monotonic()

    def term(self, worker_id: str, timeout: float = 60.0) -> None:
        """SIGTERM: ``LeasedWorker.stop()`` finishes the message in hand and releases leases."""
        worker = self.running.pop(worker_id)
        worker.process.send_signal(signal.SIGTERM)
        try:
            worker.process.wait(timeout)
        except subprocess.TimeoutExpired:
            worker.process.kill()
            worker.process.wait()
        worker.died_at = time.monotonic()

    def stop_all(self) -> None:
        for worker_id in list(self.running):
            self.kill(worker_id)

    def crashed(self) -> list[str]:
        """Workers that exited on their own (a traceback in their ``.log``)."""
        return [
            f"{w.worker_id}.{w.life}: {self.log_tail(w)}"
            for w in self.running.values()
            if w.process.poll() is not None
        ]

    def log_tail(self, worker: Worker) -> str:
        path = self.directory / f"{worker.worker_id}.{worker.life}.log"
        return path.read_text(errors="replace")[-3000:]

    def events(self) -> list[dict[str, Any]]:
        """Every record of every worker life, by time (file order breaks ties)."""
        found: list[tuple[float, int, int, dict[str, Any]]] = []
        for index, worker in enumerate(self.lives):
            if not worker.record.exists():
                continue
            for line_no, line in enumerate(worker.record.read_text().splitlines()):
                event = json.loads(line)
                event["life"] = f"{worker.worker_id}.{worker.life}"
                found.append((event["t"], index, line_no, event))
        found.sort(key=lambda item: item[:3])
        return [event for *_, event in found]

    def death_times(self) -> dict[str, float]:
        return {f"{w.worker_id}.{w.life}": w.died_at for w in self.lives if w.died_at is not None}

    async def wait_for(
        self, condition: Callable[[list[dict[str, Any]]], bool], seconds: float, what: str
    ) -> list[dict[str, Any]]:
        """Poll the records until ``condition`` holds; fail (with worker logs) after ``seconds``."""
        deadline = time.monotonic() + seconds
        while True:
            events = self.events()
            if condition(events):
                return events
            crashed = self.crashed()
            assert not crashed, f"a worker died on its own: {crashed}"
            if time.monotonic() > deadline:
                tails = {f"{w.worker_id}.{w.life}": self.log_tail(w)[-800:] for w in self.lives}
                raise AssertionError(f"not reached in {seconds} s: {what}; logs: {tails}")
            await asyncio.sleep(0.1)


def plan(guilds: Iterable[int], per_guild: int) -> list[tuple[int, int]]:
    """(guild, seq) in publish order, guilds interleaved round-robin."""
    chosen = list(guilds)
    return [(g, s) for s in range(1, per_guild + 1) for g in chosen]


async def publish(bus: StreamBus, messages: Iterable[tuple[int, int]]) -> None:
    """Publish ``g<guild>-<seq>`` play commands in order."""
    for guild, seq in messages:
        await bus.publish(Channel.COMMANDS, play(guild, f"g{guild}-{seq}"))


def count(kind: str, events: list[dict[str, Any]], worker: str | None = None) -> int:
    return sum(1 for e in events if e["k"] == kind and (worker is None or e["life"] == worker))


def finished(events: list[dict[str, Any]]) -> set[tuple[int, int]]:
    return {(e["g"], e["s"]) for e in events if e["k"] == "end"}


def missing(events: list[dict[str, Any]], sent: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    done = finished(events)
    return [item for item in sent if item not in done]


def first_start_order(events: list[dict[str, Any]]) -> dict[int, list[int]]:
    order: dict[int, list[int]] = defaultdict(list)
    seen: set[tuple[int, int]] = set()
    for e in events:
        if e["k"] == "start" and (e["g"], e["s"]) not in seen:
            seen.add((e["g"], e["s"]))
            order[e["g"]].append(e["s"])
    return dict(order)


def start_order_violations(events: list[dict[str, Any]]) -> list[str]:
    """Handler starts that went back to an older message of their guild."""
    highest: dict[int, tuple[int, str]] = {}
    found: list[str] = []
    for e in events:
        if e["k"] != "start":
            continue
        before = highest.get(e["g"])
        if before is not None and e["s"] < before[0]:
            found.append(
                f"guild {e['g']}: {e['s']} started by {e['life']} after {before[0]} ({before[1]})"
            )
        if before is None or e["s"] >= before[0]:
            highest[e["g"]] = (e["s"], e["life"])
    return found


def overlaps(events: list[dict[str, Any]], deaths: dict[str, float]) -> list[str]:
    """Pairs of handler runs of one guild by different worker lives that overlap in time."""
    open_runs: dict[tuple[str, int, int], float] = {}
    runs: dict[int, list[tuple[float, float, str, int]]] = defaultdict(list)
    for e in events:
        if e["k"] not in {"start", "end", "refused", "cancelled"}:
            continue
        key = (e["life"], e["g"], e["s"])
        if e["k"] == "start":
            open_runs[key] = e["t"]
        elif e["k"] in {"end", "refused", "cancelled"} and key in open_runs:
            runs[e["g"]].append((open_runs.pop(key), e["t"], e["life"], e["s"]))
    for (life, guild, seq), started in open_runs.items():
        runs[guild].append((started, deaths.get(life, float("inf")), life, seq))
    found: list[str] = []
    for guild, items in runs.items():
        items.sort()
        latest: tuple[float, float, str, int] | None = None
        for run in items:
            if latest is not None and run[0] < latest[1] and run[2] != latest[2]:
                found.append(f"guild {guild}: {latest[2]} on {latest[3]} and {run[2]} on {run[3]}")
            if latest is None or run[1] > latest[1]:
                latest = run
    return found


@dataclass
class Publisher:
    """Publishes ``plan(guilds, …)`` in chunks until stopped, so work keeps arriving."""

    bus: StreamBus
    guilds: Iterable[int]
    chunk: int = 20
    pause: float = 0.02
    limit: int = 100_000
    sent: list[tuple[int, int]] = field(default_factory=list)
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        items = plan(self.guilds, self.limit // len(list(self.guilds)))
        for start in range(0, len(items), self.chunk):
            if self._stop.is_set():
                return
            batch = items[start : start + self.chunk]
            await publish(self.bus, batch)
            self.sent.extend(batch)
            await asyncio.sleep(self.pause)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> list[tuple[int, int]]:
        """Stop publishing; returns everything published, in order."""
        self._stop.set()
        if self._task is not None:
            await self._task
        return self.sent


def timeline(events: list[dict[str, Any]], start: float, seconds: float) -> str:
    """Records of a time window, one per line (for failure messages)."""
    return "\n".join(
        f"{e['t'] - start:+.3f} {e['life']} {e['k']} {e.get('g', '')}/{e.get('s', '')}"
        f" fence={e.get('f', '')} n={e.get('n', '')} {e.get('partitions', '')}"
        for e in events
        if start - 0.2 <= e["t"] <= start + seconds
    )


async def pending_report(url: str, prefix: str, partitions: int) -> str:
    """Who holds which unacknowledged entries of ``commands`` (for failure messages)."""
    client = aioredis.Redis.from_url(url)
    keys = Keys(prefix)
    lines: list[str] = []
    try:
        for partition in range(partitions):
            stream = keys.stream(Channel.COMMANDS, partition)
            rows = await client.xpending_range(
                stream, DEFAULT_GROUPS[Channel.COMMANDS], min="-", max="+", count=50
            )
            for row in rows:
                lines.append(
                    f"p{partition} {row['message_id'].decode()} consumer="
                    f"{row['consumer'].decode()} deliveries={row['times_delivered']}"
                )
    finally:
        await client.aclose()
    return "\n".join(lines) or "(nothing pending)"


def open_runs(events: list[dict[str, Any]], life: str) -> list[tuple[int, int]]:
    """Messages ``life`` started and has not finished, refused or given up yet."""
    running: dict[tuple[int, int], int] = {}
    for e in events:
        if e["life"] != life or e["k"] not in {"start", "end", "refused", "cancelled"}:
            continue
        key = (e["g"], e["s"])
        running[key] = running.get(key, 0) + (1 if e["k"] == "start" else -1)
    return [key for key, count in running.items() if count > 0]
