"""pytest fixtures for the Lavalink emulator (loaded through ``backbeat.testing.pytest_plugin``).

``lavalink_emulator``          one running node with a manual clock (time moves only through
                               ``node.control.advance(ms)``), password ``youshallnotpass``.
``lavalink_emulator_factory``  ``await factory(**kwargs)`` starts another node with any
                               :class:`LavalinkEmulator` arguments; all are stopped afterwards.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest_asyncio

from backbeat.testing.lavalink.server import LavalinkEmulator

EmulatorFactory = Callable[..., Awaitable[LavalinkEmulator]]


@pytest_asyncio.fixture
async def lavalink_emulator_factory() -> AsyncIterator[EmulatorFactory]:
    """Start emulated nodes on free ports; each is stopped when the test ends."""
    started: list[LavalinkEmulator] = []

    async def start(**kwargs: Any) -> LavalinkEmulator:
        kwargs.setdefault("port", 0)
        emulator = LavalinkEmulator(**kwargs)
        await emulator.start()
        started.append(emulator)
        return emulator

    try:
        yield start
    finally:
        for emulator in reversed(started):
            await emulator.stop()


@pytest_asyncio.fixture
async def lavalink_emulator(
    lavalink_emulator_factory: EmulatorFactory,
) -> LavalinkEmulator:
    """One node on a free port with a manual clock."""
    return await lavalink_emulator_factory(manual_clock=True)
