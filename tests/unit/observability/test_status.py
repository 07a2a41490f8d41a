"""The status server answers health, readiness (with its checks), stats and metrics over HTTP."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from backbeat import __version__
from backbeat.observability.status import StatusServer


async def test_health_metrics_and_readiness() -> None:
    database_up = True

    async def database() -> bool:
        return database_up

    async def raises() -> bool:
        raise ConnectionError("refused")

    async with StatusServer(port=0, component="audio") as server, aiohttp.ClientSession() as http:
        async with http.get(f"{server.url}/health") as response:
            assert response.status == 200
            assert (await response.json())["component"] == "audio"

        server.add_readiness_check("database", database)
        async with http.get(f"{server.url}/ready") as response:
            assert response.status == 200
            assert (await response.json())["checks"] == {"database": True}

        database_up = False
        async with http.get(f"{server.url}/ready") as response:
            assert response.status == 503

        database_up = True
        server.add_readiness_check("bus", raises)
        async with http.get(f"{server.url}/ready") as response:
            body = await response.json()
            assert response.status == 503
            assert body["checks"] == {"database": True, "bus": False}

        async with http.get(f"{server.url}/metrics") as response:
            assert response.status == 200
            assert response.headers["Content-Type"].startswith("text/plain")
            assert "queue_size" in await response.text()


async def test_stats_sections_sync_async_and_failing_ones_in_place() -> None:
    async def players() -> dict[str, int]:
        return {"players": 3, "playing": 1}

    def broken() -> dict[str, int]:
        raise KeyError("node-1")

    async def unserialisable() -> dict[str, object]:
        return {"when": object()}

    async with StatusServer(port=0, component="audio,gateway") as server:
        server.add_stats_section("audio", players)
        server.add_stats_section("gateway", lambda: {"shards": [{"id": 0, "latency_ms": 41.5}]})
        server.add_stats_section("broken", broken)
        server.add_stats_section("odd", unserialisable)
        async with aiohttp.ClientSession() as http, http.get(f"{server.url}/stats") as response:
            assert response.status == 200
            body = await response.json()
    assert body["component"] == "audio,gateway"
    assert body["version"] == __version__
    assert body["uptime_s"] >= 0
    assert body["sections"]["audio"] == {"players": 3, "playing": 1}
    assert body["sections"]["gateway"] == {"shards": [{"id": 0, "latency_ms": 41.5}]}
    assert body["sections"]["broken"] == {"error": "KeyError: 'node-1'"}
    assert body["sections"]["odd"]["error"].startswith("TypeError: ")


async def test_a_stats_section_that_hangs_times_out_alone() -> None:
    async def hangs() -> dict[str, int]:
        await asyncio.Event().wait()
        return {}

    async with StatusServer(port=0) as server:
        server.add_stats_section("slow", hangs)
        server.add_stats_section("fine", lambda: {"ok": 1})
        async with aiohttp.ClientSession() as http, http.get(f"{server.url}/stats") as response:
            body = await response.json()
    assert body["sections"] == {"slow": {"error": "TimeoutError()"}, "fine": {"ok": 1}}


def test_names_of_checks_and_sections_are_unique() -> None:
    server = StatusServer(port=0)

    async def ok() -> bool:
        return True

    server.add_readiness_check("audio.nodes", ok)
    server.add_stats_section("audio", dict)
    with pytest.raises(ValueError, match=r"'audio\.nodes' is already registered"):
        server.add_readiness_check("audio.nodes", ok)
    with pytest.raises(ValueError, match="'audio' is already registered"):
        server.add_stats_section("audio", dict)
