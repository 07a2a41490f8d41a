from __future__ import annotations

import asyncio
import json
import sys

import discord.gateway
import discord.http
import yarl

from backbeat.gateway.discord_endpoints import discord_py_endpoints
from backbeat.testing.discord import ControlClient, mint_token


async def test_command_line_prints_one_ready_line_and_serves_the_default_world() -> None:
    token = mint_token(4242)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "backbeat.testing.discord",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--token",
        token,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        line = json.loads(await asyncio.wait_for(process.stdout.readline(), 30))
        assert line["rest"].endswith("/api/v10")
        assert line["gateway"].startswith("ws://127.0.0.1:")
        assert line["bot_user_id"] == "4242"
        async with ControlClient(line["control"]) as control:
            state = await control.state()
        [guild] = state["guilds"]
        assert sorted((c["name"], c["type"]) for c in guild["channels"]) == [
            ("Lounge", 2),
            ("Studio", 2),
            ("general", 0),
        ]
        assert {u["username"] for u in state["users"]} >= {"alice", "bob", "carol"}
    finally:
        process.terminate()
        await process.wait()


def test_endpoints_are_set_and_restored() -> None:
    base, gateway = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    with discord_py_endpoints("http://127.0.0.1:1/api/v10/", "ws://127.0.0.1:1/"):
        assert discord.http.Route.BASE == "http://127.0.0.1:1/api/v10"
        assert yarl.URL("ws://127.0.0.1:1/") == discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    assert (
        base,
        gateway,
    ) == (discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
