"""Zombie connections: no heartbeat for the interval plus the grace closes with 4009."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import aiohttp
import pytest
from discord_raw_gateway import RawGateway

from backbeat.testing.discord import DiscordEmulator, GatewayOptions

INTERVAL_MS = 100


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def short_heartbeats(grace: float | None) -> DiscordEmulator:
    return DiscordEmulator(
        gateway_options=GatewayOptions(heartbeat_interval_ms=INTERVAL_MS, heartbeat_grace=grace)
    )


async def connect(http: aiohttp.ClientSession, emu: DiscordEmulator) -> RawGateway:
    gateway = RawGateway(await http.ws_connect(emu.gateway_url + "?v=10&encoding=json"))
    hello = await gateway.receive()
    assert hello == {"op": 10, "d": {"heartbeat_interval": INTERVAL_MS}}
    return gateway


async def test_silent_connection_is_closed_4009_and_its_session_resumes(
    http: aiohttp.ClientSession,
) -> None:
    async with short_heartbeats(grace=0.2) as emu:
        gateway = await connect(http, emu)
        ready = await gateway.identify(emu.token)
        assert ready["t"] == "READY"
        # No heartbeat from here on: the emulator gives up after 0.1 s + 0.2 s.
        assert await gateway.closed_with() == 4009
        sessions = await emu.control.sessions()
        assert sessions["heartbeat_timeouts"] == 1
        [session] = sessions["sessions"]
        assert session["session_id"] == ready["d"]["session_id"]
        assert session["connected"] is False

        again = await connect(http, emu)
        await again.send(1, ready["s"])
        assert await again.receive() == {"op": 11}
        await again.send(6, {"token": emu.token, "session_id": session["session_id"], "seq": 1})
        resumed = await again.receive()
        assert resumed["t"] == "RESUMED"
        assert (await emu.control.sessions())["sessions"][0]["resumes"] == 1


async def test_connection_silent_since_hello_is_closed_before_identify(
    http: aiohttp.ClientSession,
) -> None:
    async with short_heartbeats(grace=0.2) as emu:
        gateway = await connect(http, emu)
        assert await gateway.closed_with() == 4009
        assert (await emu.control.sessions())["heartbeat_timeouts"] == 1


async def test_heartbeats_keep_the_connection_open_until_they_stop(
    http: aiohttp.ClientSession,
) -> None:
    async with short_heartbeats(grace=0.4) as emu:
        gateway = await connect(http, emu)
        await gateway.identify(emu.token)
        # Ten heartbeats at half the interval span more than two allowed silences (0.5 s).
        for _ in range(10):
            await gateway.send(1, 1)
            assert await gateway.receive() == {"op": 11}
            await asyncio.sleep(INTERVAL_MS / 2000)
        state = await emu.control.sessions()
        assert state["heartbeat_timeouts"] == 0
        assert state["sessions"][0]["connected"] is True
        assert await gateway.closed_with() == 4009


async def test_no_grace_never_closes(http: aiohttp.ClientSession) -> None:
    async with short_heartbeats(grace=None) as emu:
        gateway = await connect(http, emu)
        with contextlib.suppress(TimeoutError):
            await gateway.ws.receive(timeout=4 * INTERVAL_MS / 1000)
            pytest.fail("the emulator sent something to a silent connection")
        await gateway.send(1, None)
        assert await gateway.receive() == {"op": 11}
        assert (await emu.control.sessions())["heartbeat_timeouts"] == 0
