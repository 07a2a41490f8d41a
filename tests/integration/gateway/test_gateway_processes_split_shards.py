"""Two ``backbeat run gateway`` processes (real subprocesses) splitting four shards over Redis
and PostgreSQL: the emulator spaces IDENTIFYs per concurrency bucket and refuses any that
come too soon, the processes start at the same moment, and none is refused; each process
holds its own shards' guilds and renders the now-playing message of those guilds only."""

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
import pytest
from gateway_audio_rig import postgresql_database
from gateway_harness import make_place, state, until

from backbeat.bus.factory import redis_bus
from backbeat.bus.interface import BusConfig
from backbeat.config import BusSettings
from backbeat.domain.messages import Channel
from backbeat.domain.messages.ui import StatePayload, UiCreate
from backbeat.testing.discord import DiscordEmulator, shard_of
from backbeat.testing.discord.gateway import GatewayOptions

pytestmark = pytest.mark.slow

SHARDS = 4
IDENTIFY_INTERVAL_S = 1.0
"""The emulator's spacing per bucket; the gateway's is a little longer (connect jitter)."""
GATEWAY_INTERVAL_S = 1.3
WAIT_S = 60.0


async def _line(stream: asyncio.StreamReader, event: str, seen: list[str]) -> dict[str, Any]:
    while True:
        raw = await asyncio.wait_for(stream.readline(), WAIT_S)
        assert raw, "backbeat run ended early:\n" + "".join(seen)
        line = raw.decode()
        seen.append(line)
        with contextlib.suppress(ValueError):
            record = json.loads(line)
            if isinstance(record, dict) and record.get("event") == event:
                return record


async def _get(url: str) -> tuple[int, Any]:
    try:
        async with aiohttp.ClientSession() as http, http.get(url) as response:
            return response.status, await response.json()
    except aiohttp.ClientError:
        return 0, None


@contextlib.asynccontextmanager
async def gateway_process(env: dict[str, str], cwd: Path) -> AsyncIterator[tuple[str, list[str]]]:
    """A child ``backbeat run gateway``; yields its status URL; SIGTERM and exit 0 after."""
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
        listening = await _line(child.stderr, "status server listening", seen)
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


async def test_two_processes_split_four_shards_with_paced_identifies(
    tmp_path: Path, redis_url: str, redis_key_prefix: str
) -> None:
    options = GatewayOptions(identify_interval=IDENTIFY_INTERVAL_S, max_concurrency=2)
    async with (
        postgresql_database(tmp_path) as database_url,
        DiscordEmulator(port=0, shard_count=SHARDS, gateway_options=options) as emu,
    ):
        places = [await make_place(emu, shard=(shard, SHARDS)) for shard in range(SHARDS)]
        assert [shard_of(p.guild, SHARDS) for p in places] == list(range(SHARDS))
        base = {k: v for k, v in os.environ.items() if not k.startswith("BACKBEAT_")}
        base.update(
            {
                "BACKBEAT_STATUS_PORT": "0",
                "BACKBEAT_LOG_FORMAT": "json",
                "BACKBEAT_DATA_DIR": str(tmp_path / "data"),
                "BACKBEAT_DATABASE_URL": database_url,
                "BACKBEAT_REDIS_URL": redis_url,
                "BACKBEAT_REDIS_KEY_PREFIX": redis_key_prefix,
                "BACKBEAT_DISCORD_TOKEN": emu.token,
                "BACKBEAT_DISCORD_API_BASE": emu.rest_url,
                "BACKBEAT_DISCORD_GATEWAY_URL": emu.gateway_url,
                "BACKBEAT_SHARD_COUNT": str(SHARDS),
                "BACKBEAT_IDENTIFY_INTERVAL_S": str(GATEWAY_INTERVAL_S),
            }
        )
        split = {"0,1": [0, 1], "2,3": [2, 3]}  # buckets 0 and 1 in each process
        async with contextlib.AsyncExitStack() as stack:
            urls = await asyncio.gather(
                *(
                    stack.enter_async_context(
                        gateway_process(base | {"BACKBEAT_SHARD_IDS": ids}, tmp_path)
                    )
                    for ids in split
                )
            )
            for url, _ in urls:
                await until(lambda u=url: _ready(u), within=WAIT_S)  # type: ignore[misc]
            sessions = await emu.control.sessions(connected=SHARDS)
            assert sessions["identify_refused"] == 0
            assert sessions["identify_count"] == SHARDS
            connected = sorted(s["shard"][0] for s in sessions["sessions"] if s["connected"])
            assert connected == list(range(SHARDS))

            # Each process holds its own shards' guilds and reads their partitions.
            for (url, _), shards in zip(urls, split.values(), strict=True):
                _, stats = await _get(f"{url}/stats")
                section = stats["sections"]["gateway"]
                assert section["partitions"] == shards
                assert section["guilds"] == len(shards)

            # A state for every guild: each is rendered, by the process owning its shard.
            config = BusConfig(
                partitions=BusSettings(_env_file=None).bus_partitions, shard_count=SHARDS
            )  # type: ignore[call-arg]
            audio_side = redis_bus(redis_url, prefix=redis_key_prefix, config=config)
            try:
                for place in places:
                    await audio_side.publish(
                        Channel.UI_NOW,
                        UiCreate(
                            guild_id=place.guild,
                            payload=StatePayload(state_seq=1, state=state(place)),
                        ),
                    )
                for place in places:
                    await until(lambda p=place: _posted(emu, p.text), within=WAIT_S)  # type: ignore[misc]
            finally:
                await audio_side.close()


async def _ready(url: str) -> bool:
    code, _ = await _get(f"{url}/ready")
    return code == 200


async def _posted(emu: DiscordEmulator, channel_id: int) -> bool:
    messages = await emu.control.channel_messages(channel_id)
    return any(m["embeds"] for m in messages)
