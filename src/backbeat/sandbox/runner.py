"""Run the sandbox: both emulators, every component, the page; one ready line; a clean stop.

Start order: the Lavalink emulator, the Discord emulator (default world, the two linked by
one :class:`~backbeat.testing.voice.VoiceCredentialRegistry`, so Lavalink accepts only the
voice credentials Discord issued), the sandbox guild, the page, then every registered
component through :func:`backbeat.runtime.runner.run_process` on the settings of
:mod:`backbeat.sandbox.settings`. When the components have started, the bot is ready on its
shard and its slash commands are synced, ``ready`` gets the ready line. Stopping (``stop`` set)
ends the components first, then the page and the emulators; nothing is left listening.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

import aiohttp

from backbeat.config import Settings
from backbeat.observability.logging import get_logger
from backbeat.runtime.process import ProcessContext
from backbeat.runtime.registry import build, component_modules, select
from backbeat.runtime.runner import run_process
from backbeat.sandbox.guild import prepare_guild
from backbeat.sandbox.settings import HOST, Emulated, sandbox_settings
from backbeat.sandbox.web import SandboxPage
from backbeat.testing.discord import DiscordEmulator
from backbeat.testing.lavalink.server import LavalinkEmulator
from backbeat.testing.voice import VoiceCredentialRegistry

READY_WITHIN_S: Final = 120.0
"""How long the bot may take to be ready and synced before the sandbox gives up."""

_log = get_logger(__name__)

ReadyLine = dict[str, Any]


class SandboxNotReadyError(RuntimeError):
    """The bot did not become ready (shard up, commands synced) in time."""


def free_port(host: str = HOST) -> int:
    """A port nothing listens on right now (for the panel, whose OAuth redirect needs it first)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


async def run_sandbox(
    base: Settings,
    *,
    data_dir: Path,
    stop: asyncio.Event,
    ready: Callable[[ReadyLine], None],
    page_port: int = 0,
    components: list[str] | None = None,
) -> None:
    """Run the sandbox until ``stop`` is set; ``ready`` is called once with the ready line."""
    registry = VoiceCredentialRegistry()
    lavalink = LavalinkEmulator(
        host=HOST, port=0, voice_registry=registry, player_update_interval=1.0
    )
    discord_emu = DiscordEmulator(host=HOST, port=0, voice_registry=registry, default_world=True)
    page: SandboxPage | None = None
    await lavalink.start()
    try:
        await discord_emu.start()
        guild = await prepare_guild(discord_emu)
        panel_port = free_port()
        panel_url = f"http://{HOST}:{panel_port}"
        discord_emu.oauth.register_redirect_uri(f"{panel_url}/auth/callback")
        emulated = Emulated(
            discord_token=discord_emu.token,
            bot_user_id=discord_emu.bot_user_id,
            discord_api_base=discord_emu.rest_url,
            discord_gateway_url=discord_emu.gateway_url,
            oauth_client_secret=discord_emu.oauth.client_secret,
            lavalink_url=f"http://{lavalink.host}:{lavalink.port}",
            lavalink_password=lavalink.password,
            panel_port=panel_port,
        )
        settings = sandbox_settings(base, emulated, data_dir)
        modules = component_modules()
        names = select(components or [], modules)
        built = build(settings, names, modules)
        page = SandboxPage(
            guild,
            discord_control_url=discord_emu.control_url,
            lavalink_control_url=lavalink.control_url,
            host=HOST,
            port=page_port,
            panel_url=panel_url if "panel" in names else None,
        )
        await page.start()
        started: asyncio.Future[ProcessContext] = asyncio.get_running_loop().create_future()

        def on_started(process: ProcessContext) -> None:
            if not started.done():
                started.set_result(process)

        def line(process: ProcessContext) -> ReadyLine:
            assert page is not None
            return {
                "sandbox": page.url,
                "components": names,
                "panel": panel_url if "panel" in names else None,
                "status": process.status.url,
                "discord": discord_emu.urls(),
                "lavalink": lavalink.ready_line(),
                "data_dir": str(data_dir),
            }

        announcer = asyncio.create_task(
            _announce(
                started,
                discord_emu,
                guild.id,
                names=names,
                stop=stop,
                announce=lambda p: ready(line(p)),
            )
        )
        try:
            await run_process(settings, built, stop, on_started=on_started)
        finally:
            announcer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await announcer
    finally:
        if page is not None:
            await page.stop()
        await discord_emu.stop()
        await lavalink.stop()


async def _announce(
    started: asyncio.Future[ProcessContext],
    discord_emu: DiscordEmulator,
    guild_id: int,
    *,
    names: list[str],
    stop: asyncio.Event,
    announce: Callable[[ProcessContext], None],
) -> None:
    """Once the process started, wait for the bot (ready, commands synced), then announce."""
    process = await started
    loop = asyncio.get_running_loop()
    deadline = loop.time() + READY_WITHIN_S
    async with aiohttp.ClientSession() as http:
        while not await _bot_ready(http, process.status.url, discord_emu, guild_id, names):
            if loop.time() > deadline:
                _log.error("sandbox not ready in time", within_s=READY_WITHIN_S)
                process.fail(
                    SandboxNotReadyError(f"the bot was not ready within {READY_WITHIN_S:.0f} s")
                )
                return
            await asyncio.sleep(0.2)
    if not stop.is_set():
        announce(process)


async def _bot_ready(
    http: aiohttp.ClientSession,
    status_url: str,
    discord_emu: DiscordEmulator,
    guild_id: int,
    names: list[str],
) -> bool:
    try:
        async with http.get(f"{status_url}/ready") as response:
            if response.status != 200:
                return False
    except aiohttp.ClientError:
        return False
    if "gateway" not in names:
        return True
    world = discord_emu.world
    synced = world.commands.get(None) or world.commands.get(guild_id)
    return bool(synced)
