"""The audio component's search wiring, as ``backbeat run audio`` builds it with Redis: the
search cache is in Redis (shared by every worker) on the process's one cache store."""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from backbeat.audio.component import COMPONENT_FACTORY
from backbeat.cache import CacheStore
from backbeat.cache.factory import CACHE_RESOURCE
from backbeat.config import load_settings
from backbeat.domain.messages import Channel, DiscordContext, InteractionRef
from backbeat.domain.messages.commands import Search, SearchPayload
from backbeat.domain.messages.to_discord import SearchResults
from backbeat.observability.status import StatusServer
from backbeat.runtime import ProcessContext
from backbeat.testing.lavalink.server import LavalinkEmulator

GUILD = 1_000_000_051


def _settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **values: str) -> Any:
    for name in list(os.environ):
        if name.startswith("BACKBEAT_") and not name.startswith("BACKBEAT_TEST_"):
            monkeypatch.delenv(name)
    for name, value in ({"STATUS_PORT": "0", "DATA_DIR": str(tmp_path)} | values).items():
        monkeypatch.setenv(f"BACKBEAT_{name}", value)
    return load_settings(None)


async def test_the_component_caches_searches_in_redis_on_the_process_store(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    lavalink_emulator: LavalinkEmulator,
    request: pytest.FixtureRequest,
) -> None:
    if "redis" not in request.config.backbeat_buses:  # type: ignore[attr-defined]
        pytest.skip("needs the Redis bus (--bus=redis)")
    redis_url: str = request.getfixturevalue("redis_url")
    prefix: str = request.getfixturevalue("redis_key_prefix")
    nodes = [
        {
            "name": "node-a",
            "url": f"http://{lavalink_emulator.host}:{lavalink_emulator.port}",
            "password": lavalink_emulator.password,
        }
    ]
    settings = _settings(
        monkeypatch,
        tmp_path,
        BOT_USER_ID="424242",
        LAVALINK_NODES=json.dumps(nodes),
        REDIS_URL=redis_url,
        REDIS_KEY_PREFIX=prefix,
        BUS_PARTITIONS="2",
    )
    component = COMPONENT_FACTORY(settings)
    async with StatusServer(port=0) as status:
        process = ProcessContext(settings, status)
        try:
            await component.start(process)
            assert component.worker is not None
            deadline = time.monotonic() + 15
            while not component.worker.owned:
                assert time.monotonic() < deadline, "no partitions"
                await asyncio.sleep(0.05)
            bus = await process.bus()
            interaction = InteractionRef(
                id=1, token="t", application_id=424242, created_at=time.time()
            )
            context = DiscordContext(user_id=5, interaction=interaction)
            async with bus.tap(Channel.TO_DISCORD) as tap:
                for query in ("lofi", "LoFi"):
                    command = Search(
                        guild_id=GUILD, context=context, payload=SearchPayload(query=query)
                    )
                    await bus.publish(Channel.COMMANDS, command)
                    reply = await asyncio.wait_for(anext(aiter(tap)), 15)
                    assert isinstance(reply, SearchResults)
                    assert reply.correlation_id == command.id
                    assert reply.payload.tracks
            loads = await lavalink_emulator.control.requests("/v4/loadtracks")
            assert [r["query"]["identifier"] for r in loads] == ["ytsearch:lofi"]

            client = Redis.from_url(redis_url)
            try:
                key = f"{prefix}cache:search:ytsearch:lofi"
                ttl_ms = await client.pttl(key)
                assert 0 < ttl_ms <= 300_000, "cached in Redis for the TTL"
            finally:
                await client.aclose()

            async def another() -> CacheStore:
                raise AssertionError("the process already has its cache store")

            assert await process.shared(CACHE_RESOURCE, another) is not None
        finally:
            await component.stop()
            await process.close()
