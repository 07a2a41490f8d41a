"""The Discord emulator acknowledges heartbeats after a round-trip-like delay, so discord.py's
``latency`` reads that delay, never a whole heartbeat interval."""

from __future__ import annotations

import asyncio
import contextlib

import discord

from backbeat.gateway.discord_endpoints import discord_py_endpoints
from backbeat.testing.discord import DiscordEmulator, GatewayOptions

INTERVAL_MS = 300
DELAY_S = 0.02


async def test_latency_reads_the_ack_delay() -> None:
    options = GatewayOptions(heartbeat_interval_ms=INTERVAL_MS, heartbeat_ack_delay=DELAY_S)
    async with DiscordEmulator(gateway_options=options) as emu:
        with discord_py_endpoints(emu.rest_url, emu.gateway_url):
            client = discord.Client(intents=discord.Intents.none(), guild_ready_timeout=0.1)
            task = asyncio.create_task(client.start(emu.token))
            try:
                await asyncio.wait_for(client.wait_until_ready(), 20)
                await asyncio.sleep(INTERVAL_MS / 1000 * 2)
                samples = []
                for _ in range(10):
                    samples.append(client.latency)
                    await asyncio.sleep(INTERVAL_MS / 1000)
            finally:
                await client.close()
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.wait_for(task, 10)
    # The ack delay, give or take scheduling on a busy machine; never a whole interval.
    assert all(DELAY_S / 2 <= latency < INTERVAL_MS / 1000 * 2 / 3 for latency in samples), samples
