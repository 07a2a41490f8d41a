"""pytest fixtures for the Discord emulator (registered by backbeat's pytest plugin).

``discord_emulator``: a running emulator (empty world, fresh bot token) for one test.
``discord_py_pointed_at_emulator``: the emulator, with discord.py's REST base and gateway URL
pointed at it for the test and restored afterwards.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from backbeat.gateway.discord_endpoints import discord_py_endpoints
from backbeat.testing.discord.server import DiscordEmulator


@pytest.fixture
async def discord_emulator() -> AsyncIterator[DiscordEmulator]:
    async with DiscordEmulator(port=0) as emulator:
        yield emulator


@pytest.fixture
async def discord_py_pointed_at_emulator(
    discord_emulator: DiscordEmulator,
) -> AsyncIterator[DiscordEmulator]:
    with discord_py_endpoints(discord_emulator.rest_url, discord_emulator.gateway_url):
        yield discord_emulator
