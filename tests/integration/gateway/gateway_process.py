"""``backbeat run gateway`` as a child process, the way an operator runs it: its environment,
its JSON log lines on stderr and its status server."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp

from backbeat.testing.discord import DiscordEmulator

WAIT_S = 60.0
"""Bound of every wait on the child (a loaded 2-core machine starts Python slowly)."""


def run_env(emu: DiscordEmulator, tmp_path: Path, variables: dict[str, str]) -> dict[str, str]:
    """This process's environment less any ``BACKBEAT_*``: JSON logs, a free status port, data
    under ``tmp_path``, Discord at ``emu``; then ``variables``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BACKBEAT_")}
    env.update(
        {
            "BACKBEAT_STATUS_PORT": "0",
            "BACKBEAT_LOG_FORMAT": "json",
            "BACKBEAT_DATA_DIR": str(tmp_path / "data"),
            "BACKBEAT_DISCORD_TOKEN": emu.token,
            "BACKBEAT_DISCORD_API_BASE": emu.rest_url,
            "BACKBEAT_DISCORD_GATEWAY_URL": emu.gateway_url,
        }
    )
    env.update(variables)
    return env


async def log_event(stream: asyncio.StreamReader, event: str, seen: list[str]) -> dict[str, Any]:
    """The next JSON log record named ``event``; every line read is kept in ``seen``."""
    while True:
        raw = await asyncio.wait_for(stream.readline(), WAIT_S)
        assert raw, "backbeat run ended early:\n" + "".join(seen)
        line = raw.decode()
        seen.append(line)
        with contextlib.suppress(ValueError):
            record = json.loads(line)
            if isinstance(record, dict) and record.get("event") == event:
                return record


@contextlib.asynccontextmanager
async def gateway_process(
    env: dict[str, str], cwd: Path, *, wait_for: tuple[str, ...] = ()
) -> AsyncIterator[tuple[str, list[str]]]:
    """A child ``backbeat run gateway``; yields its status URL (once it has also logged the
    ``wait_for`` events) and its log lines; after, SIGTERM and exit 0."""
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "backbeat",
        "run",
        "gateway",
        env=env,
        cwd=cwd,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    seen: list[str] = []
    assert child.stderr is not None
    drain: asyncio.Task[bytes] | None = None
    try:
        listening = await log_event(child.stderr, "status server listening", seen)
        for event in wait_for:
            await log_event(child.stderr, event, seen)
        drain = asyncio.create_task(child.stderr.read())
        yield str(listening["url"]), seen
        child.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(child.wait(), WAIT_S) == 0, "".join(seen)
    finally:
        if child.returncode is None:
            child.kill()
            await child.wait()
        if drain is not None:
            seen.append((await drain).decode(errors="replace"))


async def status_get(url: str) -> tuple[int, Any]:
    """Status and JSON of a GET (0 and None while nothing answers)."""
    try:
        async with aiohttp.ClientSession() as http, http.get(url) as response:
            return response.status, await response.json()
    except aiohttp.ClientError:
        return 0, None


async def is_ready(status_url: str) -> bool:
    code, _ = await status_get(f"{status_url}/ready")
    return code == 200
