"""The bot under measurement: the gateway (unmodified discord.py) and audio in this process
over Redis and a throwaway PostgreSQL database, against the Discord and Lavalink emulators
(also in this process, sharing its event loop), the way ``backbeat run`` starts them."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from backbeat.audio.component import COMPONENT_FACTORY as AUDIO
from backbeat.bus.interface import Bus
from backbeat.config import Settings, load_settings
from backbeat.db.engine import create_engine
from backbeat.db.migrate import migrate_to
from backbeat.gateway.component import COMPONENT_FACTORY as GATEWAY
from backbeat.observability.status import StatusServer
from backbeat.runtime import ProcessContext
from backbeat.testing.backends import create_database, delete_redis_prefix, drop_database
from backbeat.testing.discord import DiscordEmulator
from backbeat.testing.lavalink.control_client import LavalinkControlClient
from backbeat.testing.lavalink.server import LavalinkEmulator
from backbeat.testing.voice import VoiceCredentialRegistry


@dataclass
class Bot:
    """What the measures drive and read."""

    settings: Settings
    emu: DiscordEmulator
    node: LavalinkEmulator
    lavalink: LavalinkControlClient
    process: ProcessContext
    bus: Bus
    status_url: str
    redis_url: str
    redis_prefix: str


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """Only these ``BACKBEAT_*`` variables while the bot is built (restored afterwards)."""
    saved = {k: v for k, v in os.environ.items() if k.startswith("BACKBEAT_")}
    for name in saved:
        del os.environ[name]
    os.environ.update(values)
    try:
        yield
    finally:
        for name in values:
            os.environ.pop(name, None)
        os.environ.update(saved)


async def ready(url: str) -> bool:
    try:
        async with aiohttp.ClientSession() as http, http.get(f"{url}/ready") as response:
            return response.status == 200
    except aiohttp.ClientError:
        return False


@contextlib.asynccontextmanager
async def running_bot(redis_url: str, postgres_server_url: str) -> AsyncIterator[Bot]:
    """The bot ready, on a fresh database and Redis prefix, both removed at the end."""
    run = uuid.uuid4().hex[:10]
    os.environ["BACKBEAT_TEST_POSTGRES_URL"] = postgres_server_url  # where to create it
    database_url = await create_database(
        "postgresql", f"bbbench_{run}", sqlite_dir=Path(tempfile.gettempdir())
    )
    prefix = f"bbbench:{run}:"
    registry = VoiceCredentialRegistry()
    node = LavalinkEmulator(port=0, voice_registry=registry, player_update_interval=5.0)
    await node.start()
    try:
        engine = create_engine(database_url)
        await migrate_to(engine, "head")
        await engine.dispose()
        async with DiscordEmulator(port=0, voice_registry=registry) as emu:
            nodes = [
                {"name": "n1", "url": f"http://{node.host}:{node.port}", "password": node.password}
            ]
            values = {
                "STATUS_PORT": "0",
                "LOG_LEVEL": "WARNING",
                "DATABASE_URL": database_url,
                "REDIS_URL": redis_url,
                "REDIS_KEY_PREFIX": prefix,
                "DISCORD_TOKEN": emu.token,
                "DISCORD_API_BASE": emu.rest_url,
                "DISCORD_GATEWAY_URL": emu.gateway_url,
                "BOT_USER_ID": str(emu.bot_user_id),
                "SHARD_COUNT": "1",
                "LAVALINK_NODES": json.dumps(nodes),
                "VOICE_CONNECT_TIMEOUT_S": "20",
            }
            with _environment({f"BACKBEAT_{k}": v for k, v in values.items()}):
                settings = load_settings(None)
            audio, gateway = AUDIO(settings), GATEWAY(settings)
            lavalink = LavalinkControlClient(node.control_url)
            async with StatusServer(port=0) as status:
                process = ProcessContext(settings, status)
                try:
                    await audio.start(process)
                    await gateway.start(process)
                    await _until_ready(status.url)
                    yield Bot(
                        settings,
                        emu,
                        node,
                        lavalink,
                        process,
                        await process.bus(),
                        status.url,
                        redis_url,
                        prefix,
                    )
                finally:
                    await gateway.stop()
                    await audio.stop()
                    await process.close()
                    await lavalink.close()
    finally:
        await node.stop()
        await drop_database("postgresql", database_url)
        await delete_redis_prefix(redis_url, prefix)


async def _until_ready(url: str, within_s: float = 60.0) -> None:
    async with asyncio.timeout(within_s):
        while True:
            if await ready(url):
                return
            await asyncio.sleep(0.1)
