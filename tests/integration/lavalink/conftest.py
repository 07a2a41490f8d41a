"""lavalink.py clients for the emulator integration tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import lavalink
import pytest_asyncio
from lavalink_py_harness import BOT_USER_ID, EventLog


@pytest_asyncio.fixture
async def lavalink_client() -> AsyncIterator[tuple[lavalink.Client, EventLog]]:
    client: lavalink.Client = lavalink.Client(BOT_USER_ID)
    log = EventLog(client)
    try:
        yield client, log
    finally:
        await client.close()
