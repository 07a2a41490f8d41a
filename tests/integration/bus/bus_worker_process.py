"""One audio-like worker process for the process-level bus tests (run it by path).

It runs a :class:`~backbeat.bus.worker.LeasedWorker` over a Redis bus with a stable worker id
and a handler that records, for every delivery of ``discord-bot:commands``, a start line
before the work and an end line after it (guild, sequence number from the message label,
worker, ``CLOCK_MONOTONIC`` time, entry id, fencing token) in its own append-only JSON-lines
file. ``CLOCK_MONOTONIC`` is one clock for every process of the machine, so intervals of
different workers compare. Each record is one ``write(2)`` on an ``O_APPEND`` file: a
SIGKILL can cut the process between two records but never loses or tears a written one
(the page cache belongs to the kernel), so the files are a trustworthy log without fsync.

With ``--db-url`` the handler also commits each message in SQL, after
``advance_fence(conn, pool=…, partition=…, token=delivery.fence)`` in the same transaction,
so a holder whose lease moved on is refused there (record ``refused``). The file named by
``--stall-file``, when it appears, blocks this worker's event loop (``time.sleep``) for the
seconds it contains, inside a handler, between the start record and the SQL commit (once
no SQL transaction of this process is open, so the stall holds no lock); with
``--wake-file`` the stall lasts at least that long and then until the wake file exists
(so a test can end it once another worker did what must happen meanwhile, however slow
the machine; at most ten minutes).
``--freeze-after N`` makes every handler from the N-th start on hang (the entries stay in
this worker's hands until it is killed). ``--hiccup-every N --hiccup-ms X`` blocks the loop
X ms after every N-th end record when no other handler is mid-work: a stall between
entries, which the lease check before the next entry must catch (a stall inside a handler
is what fencing tokens are for).

SIGTERM stops the worker gracefully (``LeasedWorker.stop()``); SIGKILL is a crash.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import text

from backbeat.bus.factory import redis_bus
from backbeat.bus.interface import BusConfig, Delivery
from backbeat.bus.keys import AUDIO_POOL
from backbeat.bus.worker import LeasedWorker
from backbeat.db.engine import create_engine
from backbeat.domain.messages import Channel
from backbeat.testing.bus_fixtures import label


class Record:
    """An append-only JSON-lines file, one ``write(2)`` per record."""

    def __init__(self, path: Path, worker: str) -> None:
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._worker = worker

    def __call__(self, kind: str, **fields: Any) -> None:
        line = json.dumps({"k": kind, "w": self._worker, "t": time.monotonic(), **fields})
        os.write(self._fd, line.encode() + b"\n")


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--worker", required=True)
    parser.add_argument("--record", required=True, type=Path)
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--ttl-ms", type=int, default=1500)
    parser.add_argument("--handle-ms", type=float, default=0.0)
    parser.add_argument("--stall-file", type=Path)
    parser.add_argument("--wake-file", type=Path)
    parser.add_argument("--freeze-after", type=int, default=0)
    parser.add_argument("--hiccup-every", type=int, default=0)
    parser.add_argument("--hiccup-ms", type=float, default=0.0)
    parser.add_argument("--db-url")
    return parser.parse_args(argv)


def fence_of(delivery: Delivery) -> int | None:
    fence = getattr(delivery, "fence", None)
    return None if fence is None else int(fence)


def still_current(delivery: Delivery) -> bool | None:
    check = getattr(delivery, "still_current", None)
    return None if check is None else bool(check())


async def exit_with_parent(parent: int) -> None:
    """A test run that died hard (SIGKILL, timeout) must not leave this worker behind."""
    while os.getppid() == parent:  # noqa: ASYNC110 - nothing to wait on but polling
        await asyncio.sleep(0.5)
    os._exit(3)


async def main(args: argparse.Namespace) -> None:
    record = Record(args.record, args.worker)
    config = BusConfig(
        partitions=args.partitions,
        shard_count=1,
        max_deliveries=5,
        claim_idle_ms=max(args.ttl_ms, 200),
        lease_ttl_ms=args.ttl_ms,
        block_ms=100,
        batch=50,
    )
    bus = redis_bus(args.url, prefix=args.prefix, config=config)
    engine = None if args.db_url is None else create_engine(args.db_url)

    async def commit(delivery: Delivery, guild: int, seq: int) -> bool:
        """The message's effect in SQL behind the fence; False when the fence refused it."""
        from backbeat.db.repositories.fencing import advance_fence  # H3's repository
        from backbeat.errors import StaleFencingTokenError

        assert engine is not None
        await commits_open.wait()
        in_transaction[0] += 1
        try:
            async with engine.begin() as conn:
                await advance_fence(
                    conn, pool=AUDIO_POOL, partition=delivery.partition, token=delivery.fence
                )
                await conn.execute(
                    text(
                        "INSERT INTO bus_test_effects (guild_id, seq, worker, fence)"
                        " VALUES (:g, :s, :w, :f)"
                    ),
                    {"g": guild, "s": seq, "w": args.worker, "f": delivery.fence},
                )
        except StaleFencingTokenError:
            return False
        finally:
            in_transaction[0] -= 1
        return True

    handled: list[int] = []
    starts: list[int] = []
    in_flight = [0]  # handlers between their start and end records
    in_transaction = [0]  # SQL transactions open
    commits_open = asyncio.Event()  # cleared while a stall waits for open transactions
    commits_open.set()

    async def handle(delivery: Delivery) -> None:
        guild = delivery.message.guild_id
        seq = int(label(delivery.message).rsplit("-", 1)[1])
        common = {
            "g": guild,
            "s": seq,
            "p": delivery.partition,
            "e": delivery.entry_id,
            "f": fence_of(delivery),
            "n": delivery.deliveries,
        }
        record("start", **common)
        starts.append(seq)
        if args.freeze_after and len(starts) >= args.freeze_after:
            # Every handler from the N-th start on hangs: each reader stays on the entry it
            # holds (pending under this worker), waiting for the SIGKILL or SIGTERM.
            record("frozen", **common)
            await asyncio.Event().wait()
        in_flight[0] += 1
        try:
            await work(delivery, guild, seq, common)
        except asyncio.CancelledError:
            record("cancelled", **common)
            raise
        finally:
            in_flight[0] -= 1
        handled.append(seq)
        if args.hiccup_every and len(handled) % args.hiccup_every == 0 and not in_flight[0]:
            # A scheduler stall between entries: this one's work is done, no other handler
            # of this process is in the middle of one, and the lease may lapse meanwhile.
            record("hiccup", ms=args.hiccup_ms)
            time.sleep(args.hiccup_ms / 1000)  # noqa: ASYNC251 - the stall being simulated

    async def work(delivery: Delivery, guild: int, seq: int, common: dict[str, Any]) -> None:
        if args.handle_ms:
            await asyncio.sleep(args.handle_ms / 1000)
        if args.stall_file is not None and args.stall_file.exists():
            seconds = float(args.stall_file.read_text() or "0")
            args.stall_file.unlink()
            # Stall holding no SQL lock (SQLite's is database-wide, and a fence row lock
            # would do the same): else the new holder's first commit would wait for this
            # process and the race would not happen. New transactions wait meanwhile.
            commits_open.clear()
            while in_transaction[0]:  # noqa: ASYNC110 - a counter, not an event
                await asyncio.sleep(0.001)
            record("stall", seconds=seconds, **common)
            time.sleep(seconds)  # noqa: ASYNC251 - the point: the whole event loop stops
            if args.wake_file is not None:
                limit = time.monotonic() + 600
                while not args.wake_file.exists() and time.monotonic() < limit:
                    time.sleep(0.01)  # noqa: ASYNC251 - still stalled, by design
            record("woke", current=still_current(delivery), **common)
            commits_open.set()
        if engine is not None and not await commit(delivery, guild, seq):
            record("refused", **common)
            raise RuntimeError("fencing token refused: this worker lost the partition")
        record("end", **common)

    async def changed(owned: frozenset[int]) -> None:
        record("owned", partitions=sorted(owned))

    worker = LeasedWorker(
        bus,
        worker_id=args.worker,
        handlers={Channel.COMMANDS: handle},
        on_change=changed,
        ttl_ms=args.ttl_ms,
    )
    loop = asyncio.get_running_loop()
    stopping: list[asyncio.Task[None]] = []
    loop.add_signal_handler(
        signal.SIGTERM, lambda: stopping.append(asyncio.create_task(worker.stop()))
    )
    record("ready", pid=os.getpid())
    orphan_watch = asyncio.create_task(exit_with_parent(os.getppid()))
    try:
        await worker.run()
    finally:
        orphan_watch.cancel()
        for task in stopping:
            with contextlib.suppress(Exception):
                await task
        record("exit")
        await bus.close()
        if engine is not None:
            await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main(parse(sys.argv[1:])))
