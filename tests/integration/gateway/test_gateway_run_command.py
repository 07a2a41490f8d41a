"""``backbeat run gateway`` as an operator runs it, against the Discord emulator."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

import aiohttp
from gateway_harness import until

from backbeat.testing.discord import DiscordEmulator

WAIT_S = 60.0


async def _status(url: str) -> int:
    try:
        async with aiohttp.ClientSession() as http, http.get(url) as response:
            return response.status
    except aiohttp.ClientError:
        return 0


async def _event(stream: asyncio.StreamReader, event: str, seen: list[str]) -> dict[str, Any]:
    while True:
        raw = await asyncio.wait_for(stream.readline(), WAIT_S)
        assert raw, "backbeat run ended early:\n" + "".join(seen)
        line = raw.decode()
        seen.append(line)
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and record.get("event") == event:
            return record


async def test_backbeat_run_gateway_connects_is_ready_and_stops_on_sigterm(
    tmp_path: Path,
) -> None:
    async with DiscordEmulator(port=0) as emu:
        await emu.control.create_guild("g", shard=(0, 1))
        env = {k: v for k, v in os.environ.items() if not k.startswith("BACKBEAT_")}
        env.update(
            {
                "BACKBEAT_STATUS_PORT": "0",
                "BACKBEAT_LOG_FORMAT": "json",
                "BACKBEAT_DATA_DIR": str(tmp_path / "data"),
                "BACKBEAT_DISCORD_TOKEN": emu.token,
                "BACKBEAT_DISCORD_API_BASE": emu.rest_url,
                "BACKBEAT_DISCORD_GATEWAY_URL": emu.gateway_url,
                "BACKBEAT_SHARD_COUNT": "1",
            }
        )
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "backbeat",
            "run",
            "gateway",
            env=env,
            cwd=tmp_path,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        seen: list[str] = []
        try:
            assert child.stderr is not None
            listening = await _event(child.stderr, "status server listening", seen)
            ready_url = f"{listening['url']}/ready"
            await until(lambda: _status(ready_url), within=WAIT_S)
            assert await until(lambda: _ready(ready_url), within=WAIT_S)
            await _event(child.stderr, "gateway consuming", seen)
            sessions = await emu.control.sessions(connected=1)
            assert [s["shard"] for s in sessions["sessions"] if s["connected"]] == [[0, 1]]
            child.send_signal(signal.SIGTERM)
            rest = await asyncio.wait_for(child.stderr.read(), WAIT_S)
            seen.append(rest.decode())
            assert await asyncio.wait_for(child.wait(), WAIT_S) == 0, "".join(seen)
        finally:
            if child.returncode is None:
                child.kill()
                await child.wait()


async def _ready(url: str) -> bool:
    return await _status(url) == 200
