"""Auth, headers, info/version/stats and error bodies, as real Lavalink answers them."""

from __future__ import annotations

import aiohttp
import pytest
from lavalink_raw_client import RawClient

from backbeat.testing.lavalink.server import LavalinkEmulator


@pytest.mark.parametrize(
    ("headers", "status"),
    [({}, 401), ({"Authorization": "wrong"}, 403)],
)
async def test_rest_auth_failures_have_empty_bodies(
    lavalink_emulator: LavalinkEmulator,
    http: aiohttp.ClientSession,
    headers: dict[str, str],
    status: int,
) -> None:
    async with http.get(lavalink_emulator.rest_url + "/v4/info", headers=headers) as response:
        assert response.status == status
        assert await response.read() == b""
        assert response.headers["Lavalink-Api-Version"] == "4"


async def test_json_content_type_is_exact_and_version_header_present(
    lavalink_emulator: LavalinkEmulator, http: aiohttp.ClientSession
) -> None:
    headers = {"Authorization": lavalink_emulator.password}
    async with http.get(lavalink_emulator.rest_url + "/v4/info", headers=headers) as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == "application/json"
        assert response.headers["Lavalink-Api-Version"] == "4"
        info = await response.json()
    assert info["version"]["major"] == 4
    assert "timescale" in info["filters"]
    assert {"name", "version"} <= set(info["plugins"][0])


async def test_version_is_plain_text(
    lavalink_emulator: LavalinkEmulator, http: aiohttp.ClientSession
) -> None:
    headers = {"Authorization": lavalink_emulator.password}
    async with http.get(lavalink_emulator.rest_url + "/version", headers=headers) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        assert await response.text() == "4.2.2"


async def test_websocket_handshake_wrong_password_is_401(
    lavalink_emulator: LavalinkEmulator, http: aiohttp.ClientSession
) -> None:
    with pytest.raises(aiohttp.WSServerHandshakeError) as caught:
        await http.ws_connect(
            lavalink_emulator.ws_url, headers={"Authorization": "nope", "User-Id": "1"}
        )
    assert caught.value.status == 401


@pytest.mark.parametrize("user_id", [None, "0", "abc"])
async def test_websocket_handshake_needs_user_id(
    lavalink_emulator: LavalinkEmulator, http: aiohttp.ClientSession, user_id: str | None
) -> None:
    headers = {"Authorization": lavalink_emulator.password}
    if user_id is not None:
        headers["User-Id"] = user_id
    with pytest.raises(aiohttp.WSServerHandshakeError) as caught:
        await http.ws_connect(lavalink_emulator.ws_url, headers=headers)
    assert caught.value.status == 400


async def test_ready_then_stats_and_session_resumed_false(
    lavalink_emulator: LavalinkEmulator, http: aiohttp.ClientSession
) -> None:
    headers = {"Authorization": lavalink_emulator.password, "User-Id": "5"}
    async with http.ws_connect(lavalink_emulator.ws_url, headers=headers) as ws:
        assert ws._response.headers["Session-Resumed"] == "false"
        assert ws._response.headers["Lavalink-Api-Version"] == "4"
        ready = await ws.receive_json()
        stats = await ws.receive_json()
    assert ready["op"] == "ready"
    assert ready["resumed"] is False
    assert len(ready["sessionId"]) == 16
    assert ready["sessionId"].isalnum()
    assert stats["op"] == "stats"
    assert {"players", "playingPlayers", "uptime", "memory", "cpu", "frameStats"} <= set(stats)


async def test_rest_stats_counts_players_and_has_null_frame_stats(client: RawClient) -> None:
    await client.patch(1, {"volume": 50})
    status, stats = await client.request("GET", "/v4/stats")
    assert status == 200
    assert stats["players"] == 1
    assert stats["playingPlayers"] == 0
    assert stats["frameStats"] is None


async def test_error_body_fields_and_trace_only_on_request(client: RawClient) -> None:
    status, body = await client.request("GET", "/v4/sessions/nosuchsession0000/players")
    assert status == 404
    assert set(body) == {"timestamp", "status", "error", "message", "path"}
    assert body["status"] == 404
    assert body["error"] == "Not Found"
    assert body["message"] == "Session not found"
    assert body["path"] == "/v4/sessions/nosuchsession0000/players"
    status, traced = await client.request(
        "GET", "/v4/sessions/nosuchsession0000/players", params={"trace": "true"}
    )
    assert status == 404
    assert "trace" in traced


async def test_unknown_player_is_404(client: RawClient) -> None:
    status, body = await client.request("GET", client.player_path(42))
    assert status == 404
    assert body["message"] == "Player not found"


async def test_routeplanner_without_planner(client: RawClient) -> None:
    assert (await client.request("GET", "/v4/routeplanner/status"))[0] == 204
    status, body = await client.request("POST", "/v4/routeplanner/free/all")
    assert status == 500
    assert body["message"] == "Can't access disabled route planner"


async def test_routeplanner_frees_addresses(lavalink_emulator_factory: object) -> None:
    node = await lavalink_emulator_factory(route_planner=True)  # type: ignore[operator]
    async with aiohttp.ClientSession() as http:
        client = await RawClient.connect(node, http)
        await node.control.fail_address("10.0.0.7")
        status, body = await client.request("GET", "/v4/routeplanner/status")
        assert status == 200
        assert body["details"]["failingAddresses"][0]["failingAddress"] == "/10.0.0.7"
        bad = await client.request(
            "POST", "/v4/routeplanner/free/address", {"address": "not an address"}
        )
        assert bad[0] == 400
        freed = await client.request(
            "POST", "/v4/routeplanner/free/address", {"address": "10.0.0.7"}
        )
        assert freed[0] == 204
        status, body = await client.request("GET", "/v4/routeplanner/status")
        assert body["details"]["failingAddresses"] == []
        await client.close()
