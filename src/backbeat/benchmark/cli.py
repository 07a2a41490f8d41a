"""``backbeat bench``: measure the whole bot on this machine and write the report.

Needs a Redis and a PostgreSQL server: ``--redis-url`` (default ``BACKBEAT_REDIS_URL``,
else ``redis://127.0.0.1:6379/0``) and ``--postgres-url``, a server URL whose user may
create databases (default ``BACKBEAT_TEST_POSTGRES_URL``, else
``postgresql://postgres@127.0.0.1:5432/postgres``). It uses a key prefix and a database of
its own and removes both at the end. See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from backbeat.cli_command import EXIT_FAILED, EXIT_OK, Command
from backbeat.config import Settings

DEFAULT_REDIS = "redis://127.0.0.1:6379/0"
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"


@dataclass(frozen=True)
class Plan:
    """How much of each measure to run."""

    guilds: int = 30
    idle_acks: int = 200
    loop_s: float = 45.0
    per_guild: int = 40
    in_voice: int = 30
    search_runs: int = 20_000
    #: Discord lets a shard send 120 gateway commands a minute (discord.py paces them):
    #: each new player's voice join is one, so more than ~100 a minute cannot start.
    players: int = 100
    #: The audio worker in its own process (backbeat.benchmark.throughput): guilds, the
    #: offered rate and the saturation window.
    throughput_guilds: int = 1000
    throughput_rate: float = 600.0
    throughput_s: float = 20.0
    idle_s: float = 10.0


FULL = Plan()
QUICK = Plan(
    idle_acks=20,
    loop_s=5.0,
    per_guild=4,
    in_voice=5,
    search_runs=2_000,
    players=50,
    idle_s=2,
    throughput_guilds=100,
    throughput_rate=300.0,
    throughput_s=5.0,
)


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quick", action="store_true", help="a smaller run, within a minute")
    parser.add_argument(
        "--redis-url", default=None, help=f"Redis to use (default: settings, else {DEFAULT_REDIS})"
    )
    parser.add_argument(
        "--postgres-url",
        default=None,
        help="PostgreSQL server where a throwaway database is created "
        f"(default: BACKBEAT_TEST_POSTGRES_URL, else {DEFAULT_POSTGRES})",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=Path("bench/reports"),
        help="directory of backbeat_bench.md and .json (--quick: backbeat_bench.quick.md, "
        ".json; default bench/reports)",
    )


def _run(args: argparse.Namespace, settings: Settings) -> int:
    from backbeat.benchmark.suite import run_suite

    redis_url = args.redis_url or settings.bus.redis_url or DEFAULT_REDIS
    postgres = args.postgres_url or os.environ.get("BACKBEAT_TEST_POSTGRES_URL") or DEFAULT_POSTGRES
    logging.getLogger().setLevel(logging.WARNING)
    started = time.monotonic()
    try:
        report = asyncio.run(
            run_suite(QUICK if args.quick else FULL, redis_url, postgres, quick=args.quick)
        )
    except KeyboardInterrupt:
        print("backbeat bench: interrupted", file=sys.stderr)
        return EXIT_FAILED
    except Exception as error:  # one line saying what failed; the report is not written
        print(f"backbeat bench: failed: {error!r}", file=sys.stderr)
        return EXIT_FAILED
    report.seconds = time.monotonic() - started
    md, js = report.write(args.output, "backbeat_bench.quick" if args.quick else "backbeat_bench")
    print(report.to_markdown())
    print(f"written: {md} {js}", file=sys.stderr)
    return EXIT_OK


COMMANDS = [
    Command(
        "bench",
        "measure the whole bot here against the emulators and write a report",
        _arguments,
        _run,
    )
]
