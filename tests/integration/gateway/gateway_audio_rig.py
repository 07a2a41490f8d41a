"""The gateway and the real audio component in one process, against the Discord emulator and
the Lavalink emulator (which accepts only the voice credentials the Discord emulator issued).

:func:`audio_rig` starts both components the way ``backbeat run`` does (settings from the
environment), on SQLite under the test's directory or a given database URL, on the in-memory
bus or a given Redis. :class:`Slash` runs a slash command and waits for its final answer.
"""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from gateway_harness import EPHEMERAL, Place, make_place, until
from sqlalchemy.ext.asyncio import AsyncEngine

from backbeat.audio.component import COMPONENT_FACTORY as AUDIO
from backbeat.config import Settings, load_settings
from backbeat.db.engine import create_engine
from backbeat.db.migrate import migrate_to
from backbeat.gateway.component import COMPONENT_FACTORY as GATEWAY
from backbeat.observability.status import StatusServer
from backbeat.runtime import Component, ProcessContext
from backbeat.testing.backends import create_database, drop_database
from backbeat.testing.discord import DiscordEmulator
from backbeat.testing.lavalink.control_client import LavalinkControlClient
from backbeat.testing.lavalink.server import LavalinkEmulator
from backbeat.testing.voice import VoiceCredentialRegistry

AUTOCOMPLETE_RESULT = 8


@dataclass(frozen=True)
class Backends:
    """Where the components keep their data: a database URL (None: SQLite under the data
    directory) and Redis as ``(url, key prefix)`` (None: the in-memory bus)."""

    database_url: str | None = None
    redis: tuple[str, str] | None = None


@contextlib.asynccontextmanager
async def emulator_pair() -> AsyncIterator[tuple[DiscordEmulator, LavalinkEmulator]]:
    registry = VoiceCredentialRegistry()
    lavalink = LavalinkEmulator(port=0, voice_registry=registry, player_update_interval=1.0)
    await lavalink.start()
    try:
        async with DiscordEmulator(port=0, voice_registry=registry) as discord_emu:
            yield discord_emu, lavalink
    finally:
        await lavalink.stop()


async def migrate(url: str) -> None:
    """Brings the database at ``url`` to the newest schema."""
    engine = create_engine(url)
    try:
        await migrate_to(engine, "head")
    finally:
        await engine.dispose()


@contextlib.asynccontextmanager
async def postgresql_database(tmp_path: Path) -> AsyncIterator[str]:
    """A fresh, migrated PostgreSQL database (the distributed set-up's SQL)."""
    url = await create_database("postgresql", f"bbgw_{uuid.uuid4().hex[:12]}", sqlite_dir=tmp_path)
    try:
        await migrate(url)
        yield url
    finally:
        await drop_database("postgresql", url)


def environment(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    emu: DiscordEmulator,
    node: LavalinkEmulator,
    backends: Backends = Backends(),
) -> Settings:
    """Settings from a clean environment: every ``BACKBEAT_`` variable of the test only."""
    for name in list(os.environ):
        if name.startswith("BACKBEAT_") and not name.startswith("BACKBEAT_TEST_"):
            monkeypatch.delenv(name)
    nodes = [{"name": "n1", "url": f"http://{node.host}:{node.port}", "password": node.password}]
    values = {
        "STATUS_PORT": "0",
        "DATA_DIR": str(tmp_path),
        "DISCORD_TOKEN": emu.token,
        "DISCORD_API_BASE": emu.rest_url,
        "DISCORD_GATEWAY_URL": emu.gateway_url,
        "SHARD_COUNT": "1",
        "LAVALINK_NODES": json.dumps(nodes),
        "VOICE_CONNECT_TIMEOUT_S": "10",
        # The sandbox resolves no names: admit the catalog's links (a pick enqueues one).
        "URL_ALLOWLIST": "*.youtube.com",
    }
    if backends.database_url is not None:
        values["DATABASE_URL"] = backends.database_url
    if backends.redis is not None:
        values["REDIS_URL"], values["REDIS_KEY_PREFIX"] = backends.redis
    for name, value in values.items():
        monkeypatch.setenv(f"BACKBEAT_{name}", value)
    return load_settings(None)


async def get_json(url: str) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, await response.json()


async def ready(base: str) -> bool:
    code, _ = await get_json(f"{base}/ready")
    return code == 200


@dataclass
class Rig:
    settings: Settings
    emu: DiscordEmulator
    lavalink: LavalinkControlClient
    process: ProcessContext
    audio: Component
    gateway: Component


@contextlib.asynccontextmanager
async def audio_rig(
    settings: Settings, emu: DiscordEmulator, node: LavalinkEmulator
) -> AsyncIterator[Rig]:
    """Audio and the gateway running (ready) in this process."""
    lavalink = LavalinkControlClient(node.control_url)
    audio = AUDIO(settings)
    gateway = GATEWAY(settings)
    async with StatusServer(port=0) as status:
        process = ProcessContext(settings, status)
        try:
            await audio.start(process)
            await gateway.start(process)
            await until(lambda: ready(status.url), within=30)
            yield Rig(settings, emu, lavalink, process, audio, gateway)
        finally:
            await gateway.stop()
            await audio.stop()
            await process.close()
            await lavalink.close()


@dataclass
class AudioSetup:
    """What the components will run on: settings from the environment, both emulators and a
    place (:func:`audio_setup`)."""

    settings: Settings
    emu: DiscordEmulator
    node: LavalinkEmulator
    place: Place

    def rig(self) -> contextlib.AbstractAsyncContextManager[Rig]:
        """Audio and the gateway running on this set-up."""
        return audio_rig(self.settings, self.emu, self.node)


@contextlib.asynccontextmanager
async def audio_setup(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, backends: Backends
) -> AsyncIterator[AudioSetup]:
    async with emulator_pair() as (emu, node):
        settings = environment(monkeypatch, tmp_path, emu, node, backends)
        yield AudioSetup(settings, emu, node, await make_place(emu))


@dataclass
class ManagedGuild(AudioSetup):
    """The distributed set-up (PostgreSQL and Redis) whose alice has a role with Manage
    Server, with an engine on its database for reading what the gateway wrote."""

    engine: AsyncEngine


class Slash:
    """Runs slash commands in a place and returns the text the user finally sees."""

    def __init__(self, emu: DiscordEmulator, place: Place) -> None:
        self.emu = emu
        self.place = place

    async def record(
        self, user: int, name: str, options: dict[str, Any] | None = None, **kw: Any
    ) -> dict[str, Any]:
        """The interaction's record once its answer replaced "Processing…" (or the
        acknowledgement itself was the answer)."""
        created = await self.emu.control.invoke_command(
            guild_id=self.place.guild,
            channel_id=self.place.text,
            user_id=user,
            name=name,
            options=options,
            **kw,
        )

        async def answered() -> dict[str, Any] | None:
            record = await self.emu.control.interaction(created["id"], min_events=1)
            message = record.get("original_message") or {}
            content = message.get("content") or ""
            if message.get("embeds") or (content and not _processing(content)):
                return record
            return None

        found: dict[str, Any] = await until(answered, within=30, every=0.05)
        return found

    async def text(
        self, user: int, name: str, options: dict[str, Any] | None = None, **kw: Any
    ) -> str:
        record = await self.record(user, name, options, **kw)
        message = record["original_message"]
        assert message["flags"] & EPHEMERAL, message
        return str(message.get("content") or "")

    async def embed(
        self, user: int, name: str, options: dict[str, Any] | None = None, **kw: Any
    ) -> Any:
        record = await self.record(user, name, options, **kw)
        [embed] = record["original_message"]["embeds"]
        return embed

    async def choices(
        self, user: int, name: str, options: dict[str, Any], focused: str, **kw: Any
    ) -> list[dict[str, Any]]:
        """The autocomplete choices ``user`` is offered while typing ``focused``."""
        asked = await self.emu.control.invoke_autocomplete(
            guild_id=self.place.guild,
            channel_id=self.place.text,
            user_id=user,
            name=name,
            options=options,
            focused=focused,
            **kw,
        )
        record = await self.emu.control.interaction(asked["id"], min_events=1)
        assert record["initial_response"]["type"] == AUTOCOMPLETE_RESULT
        found: list[dict[str, Any]] = record["initial_response"]["data"]["choices"]
        return found

    async def setting(
        self, user: int, subcommand: str, options: dict[str, Any] | None = None
    ) -> str:
        """What ``/settings <subcommand>`` answers ``user`` in words."""
        record = await self.record(user, "settings", options, subcommand=subcommand)
        return str(record["original_message"]["content"])


def _processing(content: str) -> bool:
    return content.startswith("🎵 ")


async def bot_in(emu: DiscordEmulator, guild: int, channel: int) -> bool:
    states = await emu.control.voice_states(guild)
    return any(
        s["user_id"] == str(emu.bot_user_id) and s["channel_id"] == str(channel) for s in states
    )


async def playing(lavalink: LavalinkControlClient, guild_id: int) -> dict[str, Any] | None:
    player = await lavalink.player(guild_id)
    return player if player and player.get("track") else None


async def playing_title(lavalink: LavalinkControlClient, guild_id: int) -> str | None:
    player = await playing(lavalink, guild_id)
    return None if player is None else str(player["track"]["info"]["title"])
