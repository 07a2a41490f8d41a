"""Fault injection through the in-process control API and over HTTP."""

from __future__ import annotations

import asyncio
import json
import sys

import aiohttp
import pytest
from lavalink_raw_client import RawClient, eventually, sample_identifiers

from backbeat.testing.lavalink.control_client import ControlError, LavalinkControlClient
from backbeat.testing.lavalink.fixtures import EmulatorFactory
from backbeat.testing.lavalink.server import LavalinkEmulator

GUILD = 500


async def _play(client: RawClient) -> dict[str, object]:
    await client.connect_voice(GUILD)
    track = await client.load_track(sample_identifiers()["track"])
    await client.patch(GUILD, {"track": {"encoded": track["encoded"]}})
    return track


async def test_failure_at_play_sends_start_exception_end(
    client: RawClient, lavalink_emulator: LavalinkEmulator
) -> None:
    ids = sample_identifiers()
    await lavalink_emulator.control.fail_load(ids["track_id"], kind="region_blocked", stage="play")
    await _play(client)
    messages = [m for m in await client.collect(quiet=0.3) if m["op"] == "event"]
    assert [m["type"] for m in messages] == [
        "TrackStartEvent",
        "TrackExceptionEvent",
        "TrackEndEvent",
    ]
    exception = messages[1]["exception"]
    assert exception["message"] == "This video is not available in your country"
    assert exception["severity"] == "common"
    assert messages[2]["reason"] == "loadFailed"


async def test_identifier_failing_at_load_is_a_400(
    client: RawClient, lavalink_emulator: LavalinkEmulator
) -> None:
    ids = sample_identifiers()
    await lavalink_emulator.control.fail_load(ids["track"], kind="age_restricted")
    status, body = await client.patch(GUILD, {"track": {"identifier": ids["track"]}})
    assert status == 400
    assert body["message"].startswith("Sign in to confirm your age")


async def test_exception_and_stuck_mid_track(
    client: RawClient, lavalink_emulator: LavalinkEmulator
) -> None:
    control = lavalink_emulator.control
    await control.track_stuck(after_ms=2_000, guild_id=GUILD, threshold_ms=10_000)
    await control.track_exception(after_ms=5_000, guild_id=GUILD, kind="network_error")
    await _play(client)
    await client.collect()
    await control.advance(3_000)
    stuck = await client.event("TrackStuckEvent")
    assert stuck["thresholdMs"] == 10_000
    await control.advance(3_000)
    messages = [m for m in await client.collect() if m["op"] == "event"]
    assert [m["type"] for m in messages] == ["TrackExceptionEvent", "TrackEndEvent"]
    assert messages[0]["exception"]["severity"] == "fault"
    assert messages[1]["reason"] == "loadFailed"


@pytest.mark.parametrize("code", [4006, 4014])
async def test_voice_websocket_closed(
    client: RawClient, lavalink_emulator: LavalinkEmulator, code: int
) -> None:
    await _play(client)
    await client.collect()
    assert await lavalink_emulator.control.close_voice(GUILD, code=code) == 1
    messages = await client.collect()
    assert messages[0]["type"] == "WebSocketClosedEvent"
    assert messages[0]["code"] == code
    assert messages[1]["op"] == "playerUpdate"
    assert messages[1]["state"]["connected"] is False


async def test_http_errors_and_delays(
    client: RawClient, lavalink_emulator: LavalinkEmulator
) -> None:
    await lavalink_emulator.control.http_errors(2, status=503, path_prefix="/v4/loadtracks")
    for _ in range(2):
        status, body = await client.request(
            "GET", "/v4/loadtracks", params={"identifier": "ytsearch:x"}
        )
        assert status == 503
        assert body["error"] == "Service Unavailable"
    assert (await client.request("GET", "/v4/info"))[0] == 200
    assert (await client.request("GET", "/v4/loadtracks", params={"identifier": "x"}))[0] == 200
    await lavalink_emulator.control.delay(150, path_prefix="/v4/info", times=1)
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert (await client.request("GET", "/v4/info"))[0] == 200
    assert loop.time() - started >= 0.15


async def test_drop_socket_closes_the_client_connection(
    client: RawClient, lavalink_emulator: LavalinkEmulator
) -> None:
    await client.collect()
    assert await lavalink_emulator.control.drop_socket() == 1
    message = await client.ws.receive(timeout=3)
    assert message.type in (
        aiohttp.WSMsgType.CLOSED,
        aiohttp.WSMsgType.CLOSE,
        aiohttp.WSMsgType.ERROR,
    )


async def test_kill_refuses_connections_and_restart_keeps_port_and_sessions(
    lavalink_emulator: LavalinkEmulator, http: aiohttp.ClientSession
) -> None:
    client = await RawClient.connect(lavalink_emulator, http)
    await client.request(
        "PATCH", f"/v4/sessions/{client.session_id}", {"resuming": True, "timeout": 60}
    )
    port = lavalink_emulator.port
    await lavalink_emulator.kill()
    with pytest.raises(aiohttp.ClientConnectionError):
        await client.request("GET", "/v4/info")
    await lavalink_emulator.restart()
    assert lavalink_emulator.port == port
    again = await RawClient.connect(lavalink_emulator, http, session_id=client.session_id)
    assert again.ready["resumed"] is True
    await again.close()


async def test_kill_losing_state_forgets_sessions(
    lavalink_emulator: LavalinkEmulator, http: aiohttp.ClientSession
) -> None:
    client = await RawClient.connect(lavalink_emulator, http)
    await client.request("PATCH", f"/v4/sessions/{client.session_id}", {"resuming": True})
    await lavalink_emulator.kill(lose_state=True)
    await lavalink_emulator.restart()
    again = await RawClient.connect(lavalink_emulator, http, session_id=client.session_id)
    assert again.ready["resumed"] is False
    await again.close()


async def test_http_control_api(lavalink_emulator: LavalinkEmulator, client: RawClient) -> None:
    async with LavalinkControlClient(lavalink_emulator.control_url) as control:
        fault_id = await control.fail_load("ytsearch:broken", kind="rate_limited")
        assert [f["id"] for f in await control.faults()] == [fault_id]
        body = await client.load("ytsearch:broken")
        assert body["data"]["message"] == "This IP address has been blocked by YouTube (429)."
        await control.clear_faults()
        assert await control.faults() == []
        await control.advance(1_234)
        assert (await control.clock())["nowMs"] == 1_234
        await client.patch(GUILD, {"volume": 10})
        assert (await control.player(GUILD))["volume"] == 10  # type: ignore[index]
        assert (await control.state())["sessions"][0]["sessionId"] == client.session_id
        with pytest.raises(ControlError):
            await control.fail_load("x", kind="no-such-kind")
        await control.kill(restart_after_ms=100)

        async def back() -> bool:
            try:
                return (await control.clock())["manual"] is True
            except aiohttp.ClientError:
                return False

        await asyncio.sleep(0.1)
        await eventually(back)


async def test_command_line_prints_ready_line() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "backbeat.testing.lavalink",
        "--port",
        "0",
        "--password",
        "pw",
        "--speed",
        "5",
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), 20)
        ready = json.loads(line)
        assert set(ready) == {"rest", "gateway", "control"}
        assert ready["gateway"].endswith("/v4/websocket")
        async with aiohttp.ClientSession() as http:
            async with http.get(ready["rest"] + "/version", headers={"Authorization": "pw"}) as r:
                assert r.status == 200
            async with LavalinkControlClient(ready["control"]) as control:
                assert (await control.clock())["speed"] == 5.0
    finally:
        process.terminate()
        await process.wait()


async def test_factory_starts_independent_nodes(
    lavalink_emulator_factory: EmulatorFactory,
) -> None:
    first = await lavalink_emulator_factory(manual_clock=True)
    second = await lavalink_emulator_factory(manual_clock=True, password="other")
    assert first.port != second.port
    assert second.password == "other"


async def test_the_request_log_records_rest_requests_in_and_out_of_process(
    client: RawClient, lavalink_emulator: LavalinkEmulator
) -> None:
    control = lavalink_emulator.control
    await control.clear_requests()
    ids = sample_identifiers()
    await client.load_track(ids["track"])
    await control.faults()  # control calls are not logged
    loads = await control.requests("/v4/loadtracks")
    assert loads == [
        {"method": "GET", "path": "/v4/loadtracks", "query": {"identifier": ids["track"]}}
    ]
    async with LavalinkControlClient(lavalink_emulator.control_url) as remote:
        assert await remote.requests("/v4/loadtracks") == loads
        assert await remote.requests("/v4/nothing") == []
        await remote.clear_requests()
    assert await control.requests() == []
