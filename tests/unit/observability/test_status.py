"""The status server answers health, readiness (with its checks) and metrics over HTTP."""

from __future__ import annotations

import aiohttp

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
