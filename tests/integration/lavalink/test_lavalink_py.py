"""Unmodified lavalink.py 5.x against the emulator: the proof the protocol is faithful."""

from __future__ import annotations

import asyncio

import lavalink
from lavalink_py_harness import (
    BOT_USER_ID,
    EventLog,
    add_ready_node,
    catalog_identifiers,
    eventually,
    join_voice,
)

from backbeat.testing.lavalink.fixtures import EmulatorFactory
from backbeat.testing.voice import VoiceCredentialRegistry

Client = tuple[lavalink.Client, EventLog]
GUILD = 111_222_333


async def _emulator_player(node: object, guild_id: int = GUILD) -> dict[str, object]:
    player = await node.control.player(guild_id)  # type: ignore[attr-defined]
    assert player is not None
    return player  # type: ignore[no-any-return]


async def test_connects_and_loads_every_load_type(
    lavalink_emulator_factory: EmulatorFactory, lavalink_client: Client
) -> None:
    emulator = await lavalink_emulator_factory(manual_clock=True, password="pw-1")
    client, log = lavalink_client
    node = await add_ready_node(client, log, emulator, "main")
    ready = await log.wait_for(lavalink.NodeReadyEvent)
    assert ready.resumed is False
    assert len(ready.session_id) == 16
    ids = catalog_identifiers()

    track = await client.get_tracks(ids["track"])
    assert track.load_type is lavalink.LoadType.TRACK
    assert track.tracks[0].uri == ids["track"]
    playlist = await client.get_tracks(ids["playlist"])
    assert playlist.load_type is lavalink.LoadType.PLAYLIST
    assert playlist.tracks
    assert playlist.playlist_info.name
    search = await client.get_tracks(ids["search"])
    assert search.load_type is lavalink.LoadType.SEARCH
    assert search.tracks
    empty = await client.get_tracks(ids["empty"])
    assert empty.load_type is lavalink.LoadType.EMPTY
    assert empty.tracks == []
    await emulator.control.fail_load(ids["other"], kind="unavailable", times=1)
    error = await client.get_tracks(ids["other"])
    assert error.load_type is lavalink.LoadType.ERROR
    assert error.error is not None
    assert error.error.message == "This video is unavailable"
    assert error.error.severity is lavalink.Severity.COMMON

    decoded = await client.decode_track(track.tracks[0].track)
    assert decoded.title == track.tracks[0].title
    assert (await node.get_info())["version"]["major"] == 4
    assert node.stats is not None


async def test_plays_pauses_seeks_replaces_and_stops_in_lavalink_order(
    lavalink_emulator_factory: EmulatorFactory, lavalink_client: Client
) -> None:
    registry = VoiceCredentialRegistry()
    emulator = await lavalink_emulator_factory(manual_clock=True, voice_registry=registry)
    client, log = lavalink_client
    await add_ready_node(client, log, emulator, "main")
    player = await join_voice(client, GUILD, registry)
    ids = catalog_identifiers()
    first = (await client.get_tracks(ids["track"])).tracks[0]
    second = (await client.get_tracks(ids["other"])).tracks[0]

    await player.play(first)
    await log.wait_for(lavalink.TrackStartEvent)
    assert player.current is not None
    assert player.current.identifier == first.identifier
    state = await _emulator_player(emulator)
    assert state["state"]["connected"] is True  # type: ignore[index]

    await emulator.control.advance(10_000)
    await player.set_pause(True)
    await emulator.control.advance(10_000)
    assert await emulator.control.position(GUILD) == 10_000
    assert (await _emulator_player(emulator))["paused"] is True
    await player.set_pause(False)
    await player.seek(60_000)
    assert await emulator.control.position(GUILD) == 60_000
    await player.set_volume(35)
    assert (await _emulator_player(emulator))["volume"] == 35

    await player.play(second)  # replaces the playing track
    await log.wait_for(lavalink.TrackStartEvent, lambda e: e.track.identifier == second.identifier)
    await player.stop()
    await log.wait_for(lavalink.TrackEndEvent, lambda e: e.reason.value == "stopped")
    assert log.names() == [
        "TrackStartEvent",
        "TrackEndEvent(replaced)",
        "TrackStartEvent",
        "TrackEndEvent(stopped)",
    ]


async def test_finished_track_starts_the_next_and_failures_end_load_failed(
    lavalink_emulator_factory: EmulatorFactory, lavalink_client: Client
) -> None:
    emulator = await lavalink_emulator_factory(manual_clock=True)
    client, log = lavalink_client
    await add_ready_node(client, log, emulator, "main")
    player = await join_voice(client, GUILD)
    ids = catalog_identifiers()
    first = (await client.get_tracks(ids["track"])).tracks[0]
    second = (await client.get_tracks(ids["other"])).tracks[0]
    await emulator.control.fail_load(second.identifier, kind="bot_check", stage="play")
    player.add(first)
    player.add(second)
    await player.play()
    await log.wait_for(lavalink.TrackStartEvent)
    await emulator.control.advance(first.duration)
    exception = await log.wait_for(lavalink.TrackExceptionEvent)
    assert exception.message == "Sign in to confirm you’re not a bot"
    await log.wait_for(lavalink.TrackEndEvent, lambda e: e.reason.value == "loadFailed")
    assert log.names() == [
        "TrackStartEvent",
        "TrackEndEvent(finished)",
        "TrackStartEvent",
        "TrackExceptionEvent",
        "TrackEndEvent(loadFailed)",
    ]


async def test_resumes_a_session_with_a_persisted_session_id(
    lavalink_emulator_factory: EmulatorFactory, lavalink_client: Client
) -> None:
    emulator = await lavalink_emulator_factory(manual_clock=True)
    client, log = lavalink_client
    node = await add_ready_node(client, log, emulator, "main")
    first_ready = await log.wait_for(lavalink.NodeReadyEvent)
    session = await node.update_session(resuming=True, timeout=3600)
    assert session == {"resuming": True, "timeout": 3600}
    player = await join_voice(client, GUILD)
    track = (await client.get_tracks(catalog_identifiers()["track"])).tracks[0]
    await player.play(track)
    await log.wait_for(lavalink.TrackStartEvent)
    await client.close()  # the bot process goes away; the session waits for it

    async def paused() -> bool:
        state = await emulator.control.state()
        return bool(state["sessions"][0]["paused"])

    await eventually(paused)
    await emulator.control.advance(track.duration)  # the track ends while nobody listens

    restarted: lavalink.Client = lavalink.Client(BOT_USER_ID)
    restarted_log = EventLog(restarted)
    try:
        restarted.add_node(
            emulator.host,
            emulator.port,
            emulator.password,
            "eu",
            name="main",
            session_id=first_ready.session_id,
        )
        ready = await restarted_log.wait_for(lavalink.NodeReadyEvent)
        assert ready.resumed is True
        assert ready.session_id == first_ready.session_id
        replayed = await restarted_log.wait_for(
            lavalink.IncomingWebSocketMessage, lambda e: e.data.get("op") == "playerUpdate"
        )
        raw = [
            e.data
            for e in restarted_log.events
            if isinstance(e, lavalink.IncomingWebSocketMessage) and e.data["op"] == "event"
        ]
        assert [(m["type"], m["reason"]) for m in raw] == [("TrackEndEvent", "finished")]
        assert replayed.data["guildId"] == str(GUILD)
        players = await ready.node.get_players()
        assert [p["guildId"] for p in players] == [str(GUILD)]
    finally:
        await restarted.close()


async def test_reconnect_after_a_dropped_socket_opens_a_new_session(
    lavalink_emulator_factory: EmulatorFactory, lavalink_client: Client
) -> None:
    """lavalink.py 5.11 reconnects without ``Session-Id`` (headers are built once per task)."""
    emulator = await lavalink_emulator_factory(manual_clock=True)
    client, log = lavalink_client
    node = await add_ready_node(client, log, emulator, "main")
    first = await log.wait_for(lavalink.NodeReadyEvent)
    await node.update_session(resuming=True, timeout=3600)
    log.clear()
    assert await emulator.control.drop_socket() == 1
    await log.wait_for(lavalink.NodeDisconnectedEvent)
    again = await log.wait_for(lavalink.NodeReadyEvent)
    assert again.resumed is False
    assert again.session_id != first.session_id
    state = await emulator.control.state()
    kept = {s["sessionId"]: s["paused"] for s in state["sessions"]}
    assert kept == {first.session_id: True, again.session_id: False}


async def test_fails_over_to_another_node_near_the_same_position(
    lavalink_emulator_factory: EmulatorFactory, lavalink_client: Client
) -> None:
    first = await lavalink_emulator_factory(player_update_interval=1.0)
    second = await lavalink_emulator_factory(player_update_interval=1.0)
    client, log = lavalink_client
    node_a = await add_ready_node(client, log, first, "a")
    node_b = await add_ready_node(client, log, second, "b")
    player = await join_voice(client, GUILD, node=node_a)
    track = (await client.get_tracks(catalog_identifiers()["track"])).tracks[0]
    await player.play(track, start_time=30_000)
    await log.wait_for(lavalink.TrackStartEvent)
    await asyncio.sleep(1.2)

    before = await first.control.position(GUILD)
    assert before is not None
    await first.kill()
    changed = await log.wait_for(lavalink.NodeChangedEvent)
    assert changed.new_node is node_b
    after = await second.control.position(GUILD)
    assert after is not None
    assert abs(after - before) <= 2_000
    state = await _emulator_player(second)
    assert state["state"]["connected"] is True  # type: ignore[index]
    assert state["track"]["info"]["identifier"] == track.identifier  # type: ignore[index]
