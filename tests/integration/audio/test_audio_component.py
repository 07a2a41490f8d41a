"""The audio component in a process: readiness checks, the /stats section, commands served."""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from backbeat.audio.component import COMPONENT_FACTORY
from backbeat.config import load_settings
from backbeat.domain.messages import Channel, DiscordContext, InteractionRef
from backbeat.domain.messages.commands import QueueView
from backbeat.domain.messages.to_discord import QueuePage
from backbeat.errors import ConfigurationError
from backbeat.observability.status import StatusServer
from backbeat.runtime import ProcessContext
from backbeat.testing.lavalink.server import LavalinkEmulator


async def _get(url: str) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, await response.json()


def _settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **values: str) -> Any:
    for name in list(os.environ):
        if name.startswith("BACKBEAT_") and not name.startswith("BACKBEAT_TEST_"):
            monkeypatch.delenv(name)
    for name, value in ({"STATUS_PORT": "0", "DATA_DIR": str(tmp_path)} | values).items():
        monkeypatch.setenv(f"BACKBEAT_{name}", value)
    return load_settings(None)


def test_the_component_needs_the_bot_user_id(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with pytest.raises(ConfigurationError, match="BOT_USER_ID"):
        COMPONENT_FACTORY(_settings(monkeypatch, tmp_path))


async def test_the_component_is_ready_reports_stats_and_serves_commands(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, lavalink_emulator: LavalinkEmulator
) -> None:
    nodes = [
        {
            "name": "node-a",
            "url": f"http://{lavalink_emulator.host}:{lavalink_emulator.port}",
            "password": lavalink_emulator.password,
        }
    ]
    settings = _settings(
        monkeypatch, tmp_path, BOT_USER_ID="424242", LAVALINK_NODES=json.dumps(nodes)
    )
    component = COMPONENT_FACTORY(settings)
    assert component.name == "audio"
    async with StatusServer(port=0) as status:
        process = ProcessContext(settings, status)
        try:
            await component.start(process)
            deadline = time.monotonic() + 15
            while True:
                code, body = await _get(f"{status.url}/ready")
                if code == 200:
                    break
                assert time.monotonic() < deadline, body
                await asyncio.sleep(0.05)
            assert body["checks"] == {"bus": True, "database": True, "audio.nodes": True}

            bus = await process.bus()
            async with bus.tap(Channel.TO_DISCORD) as tap:
                interaction = InteractionRef(
                    id=1, token="t", application_id=424242, created_at=time.time()
                )
                command = QueueView(
                    guild_id=1_000_000_020,
                    context=DiscordContext(user_id=5, interaction=interaction),
                )
                await bus.publish(Channel.COMMANDS, command)
                reply = await asyncio.wait_for(anext(aiter(tap)), 15)
            assert isinstance(reply, QueuePage)
            assert reply.correlation_id == command.id

            _, stats = await _get(f"{status.url}/stats")
            audio = stats["sections"]["audio"]
            assert audio["players"] == 0
            assert audio["partitions"] == list(range(settings.bus.bus_partitions))
            assert audio["queues"] == {"sessions": 0, "waiting": 0, "queued": 0, "longest": 0}
            assert audio["nodes"]
        finally:
            await component.stop()
            await process.close()
