"""Shared fixtures of the Lavalink emulator's protocol tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest_asyncio
from lavalink_raw_client import RawClient

from backbeat.testing.lavalink.server import LavalinkEmulator


@pytest_asyncio.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest_asyncio.fixture
async def client(
    lavalink_emulator: LavalinkEmulator, http: aiohttp.ClientSession
) -> AsyncIterator[RawClient]:
    raw = await RawClient.connect(lavalink_emulator, http)
    yield raw
    await raw.close()
