"""``backbeat run gateway``'s component in a process: settings, readiness, /stats, shards."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from gateway_harness import until

from backbeat.config import Settings, load_settings
from backbeat.errors import ConfigurationError
from backbeat.gateway.component import COMPONENT_FACTORY
from backbeat.gateway.discord_endpoints import discord_py_endpoints
from backbeat.observability.status import StatusServer
from backbeat.runtime import ProcessContext, component_modules, load_factory
from backbeat.testing.discord import DiscordEmulator


def settings_from_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **values: str) -> Settings:
    for name in list(os.environ):
        if name.startswith("BACKBEAT_") and not name.startswith("BACKBEAT_TEST_"):
            monkeypatch.delenv(name)
    for name, value in ({"STATUS_PORT": "0", "DATA_DIR": str(tmp_path)} | values).items():
        monkeypatch.setenv(f"BACKBEAT_{name}", value)
    return load_settings(None)


async def _get(url: str) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, await response.json()


def test_the_gateway_is_registered_and_needs_a_token(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert load_factory("gateway", component_modules()["gateway"]) is COMPONENT_FACTORY
    with pytest.raises(ConfigurationError, match="BACKBEAT_DISCORD_TOKEN"):
        COMPONENT_FACTORY(settings_from_env(monkeypatch, tmp_path))


async def test_two_shards_in_one_process_are_ready_with_latencies_in_stats(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    async with DiscordEmulator(port=0, shard_count=2) as emu:
        for shard in (0, 1):
            await emu.control.create_guild(f"g{shard}", shard=(shard, 2))
        settings = settings_from_env(
            monkeypatch,
            tmp_path,
            DISCORD_TOKEN=emu.token,
            DISCORD_API_BASE=emu.rest_url,
            DISCORD_GATEWAY_URL=emu.gateway_url,
            SHARD_COUNT="2",
        )
        component = COMPONENT_FACTORY(settings)
        assert component.name == "gateway"
        # The component points discord.py at the emulator; restore the endpoints afterwards.
        with discord_py_endpoints(emu.rest_url, emu.gateway_url):
            await _run(component, settings, emu)


async def _run(component: Any, settings: Settings, emu: DiscordEmulator) -> None:
    async with StatusServer(port=0) as status:
        process = ProcessContext(settings, status)
        try:
            await component.start(process)

            async def ready() -> Any:
                code, body = await _get(f"{status.url}/ready")
                return body if code == 200 else None

            body = await until(ready, within=40)
            assert body["checks"]["gateway.shards"] is True
            _, stats = await _get(f"{status.url}/stats")
            section = stats["sections"]["gateway"]
            assert [(s["id"], s["state"]) for s in section["shards"]] == [
                (0, "ready"),
                (1, "ready"),
            ]
            assert all(s["latency_ms"] is not None for s in section["shards"])
            assert section["guilds"] == 2
            assert section["partitions"] == [0, 1]
            sessions = (await emu.control.sessions(connected=2))["sessions"]
            assert sorted(s["shard"][0] for s in sessions) == [0, 1]
            _, metrics = await _raw(f"{status.url}/metrics")
            assert "gateway_shards_ready 2.0" in metrics
        finally:
            await component.stop()
            await process.close()


async def _raw(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, await response.text()


async def test_a_refused_token_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    async with DiscordEmulator(port=0) as emu:
        settings = settings_from_env(
            monkeypatch,
            tmp_path,
            DISCORD_TOKEN="MTIz.not.it",
            DISCORD_API_BASE=emu.rest_url,
            DISCORD_GATEWAY_URL=emu.gateway_url,
        )
        with discord_py_endpoints(emu.rest_url, emu.gateway_url):
            async with StatusServer(port=0) as status:
                process = ProcessContext(settings, status)
                component = COMPONENT_FACTORY(settings)
                try:
                    with pytest.raises(ConfigurationError, match="DISCORD_TOKEN"):
                        await component.start(process)
                finally:
                    await component.stop()
                    await process.close()
