"""Benchmark: commands/s through one audio worker in its own process (issue 19's mix).

See :mod:`backbeat.benchmark.throughput` for the setup, the phases and the mix. Writes
``bench/reports/audio_throughput.md`` and ``.json``.

    .venv/bin/python bench/audio_throughput.py [--guilds 1000] [--rate 4000] [--seconds 30]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
from pathlib import Path
from typing import Any

from backbeat.benchmark.throughput import Options, run
from backbeat.observability.logging import configure_logging
from backbeat.testing.backends import server_url

REPORTS = Path(__file__).parent / "reports"


def report(result: dict[str, Any], command: str) -> str:
    s, lat = result["saturation"], result["latency"]
    cpu = s["cpu_percent"]
    profile = result.get("profile") or {}
    own = "\n".join(f"| {share:.1%} | `{frame}` |" for frame, share in profile.get("own", [])[:15])
    total = "\n".join(
        f"| {share:.1%} | `{frame}` |" for frame, share in profile.get("total", [])[:25]
    )
    per_tx = f"{s['commands_per_transaction']} / {s['commands_per_batch_transaction']}"
    to_ui = f"{lat['to_ui_p50_ms']} / {lat['to_ui_p99_ms']} ms"
    to_reply = f"{lat['reply_p50_ms']} / {lat['reply_p99_ms']} ms"
    sampled = (
        f"py-spy, {profile.get('samples', 0)} samples, idle {profile.get('idle_share', 0):.0%}"
    )
    return f"""# Audio throughput: one worker process over Redis + PostgreSQL, Lavalink emulator

- Command: `{command}`
- Machine: {platform.machine()}, Python {platform.python_version()}, {os.cpu_count()} cores
  shared with the other engineers' test runs (figures are a floor).
- Processes: the driver (load, stand-in gateway, taps), the audio worker, the Lavalink
  emulator, Redis, PostgreSQL. {result["guilds"]} guilds over 16 partitions, each playing
  (seeded in SQL with a {25}-track queue, restored by the worker in {result["restore_s"]} s).
- Mix: {result["mix"]}. Every command carries an interaction, so every one is answered.

## Saturation (offered {s["offered_per_s"]:.0f}/s for {s["window_s"]} s)

| measure | value |
|---|---|
| **commands answered per second** (replies in the window) | **{s["commands_per_s"]}** |
| commands/s, first publish to last reply | {s["commands_per_s_to_drain"]} |
| commands | {s["commands"]} |
| refused (error replies, e.g. nothing to shuffle) | {s["refused_share"]:.1%} |
| SQL transactions/s (all, the worker) | {s["transactions_per_s"]} |
| commands per transaction (all / in batch transactions) | {per_tx} |
| commands handled in batches | {s["batched_share"]:.1%} |
| SQL statements per command | {s["sql_statements_per_command"]} |
| Redis round trips per command (the worker) | {s["redis_round_trips_per_command"]} |
| publishes per Redis round trip (snapshots, replies) | {s["publishes_per_round_trip"]} |
| reply latency under saturation p50 / p99 | {s["reply_p50_ms"]} / {s["reply_p99_ms"]} ms |
| CPU, % of one core: worker | {cpu["worker"]} |
| CPU: PostgreSQL (all its processes, other users' too) | {cpu["postgresql"]} |
| CPU: Redis | {cpu["redis"]} |
| CPU: Lavalink emulator | {cpu["emulator"]} |
| CPU: driver (load, taps, gateway stand-in) | {cpu["driver"]} |
| worker RSS, end of the window ({result["guilds"]} players) | {s.get("worker_rss_mb", 0)} MB |

## Latency (offered {lat["offered_per_s"]:.0f}/s, probes timed to `ui:now`)

| measure | value |
|---|---|
| command → `ui:now` p50 / p99 ({lat["probe_samples"]} probes) | {to_ui} |
| command → reply p50 / p99 ({lat["commands"]} commands) | {to_reply} |

## Profile of the worker at saturation ({sampled})

Own time:

| share | frame |
|---|---|
{own}

Total time (the frame or its callees):

| share | frame |
|---|---|
{total}
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--guilds", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=4000.0, help="offered at saturation")
    parser.add_argument("--seconds", type=float, default=30.0, help="saturation window")
    parser.add_argument("--latency-seconds", type=float, default=20.0)
    parser.add_argument("--latency-share", type=float, default=0.6)
    parser.add_argument("--no-profile", action="store_true")
    parser.add_argument("--output", default="audio_throughput")
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)
    configure_logging(level="WARNING")
    options = Options(
        guilds=args.guilds,
        saturate_rate=args.rate,
        saturate_s=args.seconds,
        latency_share=args.latency_share,
        latency_s=args.latency_seconds,
        profile=not args.no_profile,
    )
    result = asyncio.run(run(options, server_url("redis")))
    command = (
        f".venv/bin/python bench/audio_throughput.py --guilds {args.guilds} --rate {args.rate:g} "
        f"--seconds {args.seconds:g}"
    )
    REPORTS.mkdir(exist_ok=True)
    (REPORTS / f"{args.output}.json").write_text(json.dumps(result, indent=2) + "\n")
    (REPORTS / f"{args.output}.md").write_text(report(result, command))
    print(json.dumps({k: v for k, v in result.items() if k != "profile"}, indent=2))


if __name__ == "__main__":
    main()
