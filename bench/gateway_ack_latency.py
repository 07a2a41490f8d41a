"""Benchmark: interaction acknowledgement latency of the gateway, measured by the emulator.

The gateway (unmodified discord.py, in-process bus, SQLite, in-memory cache) runs in this
process against the Discord emulator in a child process (``--same-process``: one event loop
for both). ``--concurrency`` simulated users invoke
``/pause`` back to back until ``--interactions`` were sent; for each one the emulator's record
gives the time from creating INTERACTION_CREATE (just before it is written to the gateway's
socket) to receiving the "Processing…" callback. Nothing answers as audio: only the
acknowledgement is measured. Writes ``bench/reports/gateway_ack_latency.md`` and ``.json``.

    .venv/bin/python bench/gateway_ack_latency.py [--interactions 600] [--concurrency 1,8,32]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from backbeat.bus import memory_bus
from backbeat.cache import CacheKeys, MemoryCacheStore
from backbeat.config import SECTIONS, DiscordSettings, Settings
from backbeat.db.engine import create_engine
from backbeat.db.migrate import migrate_to
from backbeat.gateway.app import Gateway, GatewayOptions
from backbeat.gateway.discord_endpoints import discord_py_endpoints
from backbeat.observability.logging import configure_logging
from backbeat.testing.discord import ControlClient, DiscordEmulator

REPORTS = Path(__file__).parent / "reports"


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _settings(emu: Any) -> Settings:
    sections: dict[str, Any] = {cls.section: cls(_env_file=None) for cls in SECTIONS}  # type: ignore[call-arg]
    sections["discord"] = DiscordSettings(
        _env_file=None,  # type: ignore[call-arg]
        discord_token=emu.token,
        discord_api_base=emu.rest_url,
        discord_gateway_url=emu.gateway_url,
        shard_count=1,
    )
    return Settings(**sections)


class _Remote:
    """The emulator as a child process (``python -m backbeat.testing.discord``)."""

    def __init__(self) -> None:
        self.process: asyncio.subprocess.Process | None = None

    async def __aenter__(self) -> _Remote:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "backbeat.testing.discord",
            "--port",
            "0",
            "--empty",
            stdout=asyncio.subprocess.PIPE,
            env={**os.environ, "BACKBEAT_LOG_LEVEL": "WARNING"},
        )
        assert self.process.stdout is not None
        line = json.loads(await self.process.stdout.readline())
        self.rest_url, self.gateway_url = line["rest"], line["gateway"]
        self.token = line["token"]
        self.control = ControlClient(line["control"])
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.control.close()
        assert self.process is not None
        self.process.terminate()
        await self.process.wait()


async def _run(total: int, concurrency: int, sqlite_dir: str, same: bool) -> dict[str, Any]:
    async with DiscordEmulator(port=0) if same else _Remote() as emu:  # type: ignore[attr-defined]
        control = emu.control
        users = [int((await control.create_user(f"u{n}"))["id"]) for n in range(concurrency)]
        guild = int((await control.create_guild("bench", shard=(0, 1), members=users))["id"])
        text = int((await control.create_channel(guild, "general"))["id"])
        engine = create_engine(f"sqlite+aiosqlite:///{sqlite_dir}/bench-{concurrency}.db")
        await migrate_to(engine, "head")
        bus = memory_bus()
        with discord_py_endpoints(emu.rest_url, emu.gateway_url):
            gateway = Gateway(
                _settings(emu),
                bus=bus,
                engine=engine,
                cache=MemoryCacheStore(),
                keys=CacheKeys(),
                options=GatewayOptions(identify_delay_s=0, guild_ready_timeout_s=0.1),
            )
            await gateway.start()
            try:
                await asyncio.wait_for(gateway.consuming.wait(), 30)
                ids: list[str] = []
                remaining = total

                async def user(user_id: int) -> None:
                    nonlocal remaining
                    while remaining > 0:
                        remaining -= 1
                        created = await control.invoke_command(
                            guild_id=guild, channel_id=text, user_id=user_id, name="pause"
                        )
                        await control.interaction(created["id"], min_events=1)
                        ids.append(created["id"])

                started = time.perf_counter()
                await asyncio.gather(*(user(u) for u in users))
                elapsed = time.perf_counter() - started
                latencies = []
                for interaction_id in ids:
                    record = await control.interaction(interaction_id)
                    initial = next(e for e in record["events"] if e["kind"] == "initial")
                    latencies.append((initial["at"] - record["created_at"]) * 1000)
            finally:
                await gateway.stop()
                await bus.close()
                await engine.dispose()
    return {
        "concurrency": concurrency,
        "interactions": len(latencies),
        "p50_ms": round(_percentile(latencies, 0.50), 3),
        "p99_ms": round(_percentile(latencies, 0.99), 3),
        "max_ms": round(max(latencies), 3),
        "per_second": round(len(latencies) / elapsed, 1),
    }


async def main(total: int, levels: list[int], same: bool) -> None:
    configure_logging(level="WARNING")
    logging.disable(logging.INFO)
    results = []
    with tempfile.TemporaryDirectory() as sqlite_dir:
        for level in levels:
            result = await _run(total, level, sqlite_dir, same)
            results.append(result)
            print(json.dumps(result))
    REPORTS.mkdir(exist_ok=True)
    meta = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
    }
    (REPORTS / "gateway_ack_latency.json").write_text(
        json.dumps({"meta": meta, "results": results}, indent=2) + "\n"
    )
    rows = "\n".join(
        f"| {r['concurrency']} | {r['interactions']} | {r['p50_ms']} | {r['p99_ms']} | "
        f"{r['max_ms']} | {r['per_second']} |"
        for r in results
    )
    where = "the same process and event loop" if same else "a child process"
    (REPORTS / "gateway_ack_latency.md").write_text(
        "# Gateway interaction acknowledgement latency\n\n"
        "`bench/gateway_ack_latency.py`: the gateway (in-process bus, SQLite, in-memory cache)\n"
        f"in one process, the Discord emulator in {where}. Each simulated user invokes `/pause`\n"
        "and waits for the acknowledgement before the next one; latency is what the emulator\n"
        'measures from creating INTERACTION_CREATE to receiving the ephemeral "Processing…"\n'
        f"callback (type 4). Python {meta['python']}, {meta['cpus']} CPUs shared with other work.\n"
        "\n| concurrent users | interactions | p50 ms | p99 ms | max ms | acks/s |\n"
        "|---|---|---|---|---|---|\n"
        f"{rows}\n\n"
        "Target: p99 under 10 ms. One gateway process acknowledges about 500-750 interactions a\n"
        "second on this shared machine (discord.py parsing the dispatch, the flow, the callback\n"
        "request, plus the benchmark's own control calls in the same loop); once the offered\n"
        "load approaches that rate the latency is queueing: N users in flight at R acks/s wait\n"
        "about N / R (8 users at 530/s: 15 ms).\n"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--interactions", type=int, default=600)
    parser.add_argument("--concurrency", default="1,8,32")
    parser.add_argument("--same-process", action="store_true")
    args = parser.parse_args()
    levels = [int(c) for c in args.concurrency.split(",")]
    asyncio.run(main(args.interactions, levels, args.same_process))
