"""Resuming: a paused session queues events and replays them; others lose their players."""

from __future__ import annotations

import aiohttp
from lavalink_raw_client import RawClient, eventually, sample_identifiers

from backbeat.testing.lavalink.server import LavalinkEmulator

GUILD = 600


async def _playing_client(node: LavalinkEmulator, http: aiohttp.ClientSession) -> RawClient:
    client = await RawClient.connect(node, http)
    await client.connect_voice(GUILD)
    track = await client.load_track(sample_identifiers()["track"])
    await client.patch(GUILD, {"track": {"encoded": track["encoded"]}})
    await client.collect(quiet=0.05)
    return client


async def test_resume_replays_queued_events_then_player_updates(
    lavalink_emulator: LavalinkEmulator, http: aiohttp.ClientSession
) -> None:
    client = await _playing_client(lavalink_emulator, http)
    status, _ = await client.request(
        "PATCH", f"/v4/sessions/{client.session_id}", {"resuming": True, "timeout": 3600}
    )
    assert status == 200
    await client.close()

    async def paused() -> bool:
        return bool((await lavalink_emulator.control.state())["sessions"][0]["paused"])

    await eventually(paused)
    await lavalink_emulator.control.advance(10**6)  # the track ends while nobody listens
    state = await lavalink_emulator.control.state()
    assert state["sessions"][0]["paused"] is True
    assert state["sessions"][0]["queuedEvents"] >= 1

    headers = {
        "Authorization": lavalink_emulator.password,
        "User-Id": "1001",
        "Session-Id": client.session_id,
    }
    async with http.ws_connect(lavalink_emulator.ws_url, headers=headers) as ws:
        assert ws._response.headers["Session-Resumed"] == "true"
        first = await ws.receive_json()
        assert first == {"op": "ready", "resumed": True, "sessionId": client.session_id}
        replay = [await ws.receive_json()]
        while replay[-1]["op"] != "playerUpdate":
            replay.append(await ws.receive_json())
    # Queued while away: the track's end (and stats); then one playerUpdate per player.
    events = [m for m in replay if m["op"] == "event"]
    assert [(m["type"], m["reason"]) for m in events] == [("TrackEndEvent", "finished")]
    assert replay[0] == events[0]
    assert replay[-1]["guildId"] == str(GUILD)


async def test_resume_after_timeout_gives_a_new_session(
    lavalink_emulator: LavalinkEmulator, http: aiohttp.ClientSession
) -> None:
    client = await _playing_client(lavalink_emulator, http)
    await client.request(
        "PATCH", f"/v4/sessions/{client.session_id}", {"resuming": True, "timeout": 5}
    )
    await client.close()

    async def paused() -> bool:
        return bool((await lavalink_emulator.control.state())["sessions"][0]["paused"])

    await eventually(paused)
    await lavalink_emulator.control.advance(5_000)
    again = await RawClient.connect(lavalink_emulator, http, session_id=client.session_id)
    assert again.ws._response.headers["Session-Resumed"] == "false"
    assert again.ready["resumed"] is False
    assert again.session_id != client.session_id
    status, _ = await again.request("GET", f"/v4/sessions/{client.session_id}/players")
    assert status == 404
    await again.close()


async def test_closing_a_non_resumable_session_destroys_players(
    lavalink_emulator: LavalinkEmulator, http: aiohttp.ClientSession
) -> None:
    client = await _playing_client(lavalink_emulator, http)
    await client.close()

    async def gone() -> bool:
        return (await lavalink_emulator.control.state())["sessions"] == []

    await eventually(gone)
