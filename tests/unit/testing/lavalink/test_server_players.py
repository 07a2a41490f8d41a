"""Player CRUD with Lavalink's PATCH rules and its event ordering."""

from __future__ import annotations

import pytest
from lavalink_raw_client import VOICE, RawClient, sample_identifiers

from backbeat.testing.lavalink.server import LavalinkEmulator

GUILD = 900


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"track": {"identifier": "x"}, "encodedTrack": "y"},
            "Cannot specify both track and encodedTrack/identifier",
        ),
        (
            {"track": {"identifier": "x", "encoded": "y"}},
            "Cannot specify both encodedTrack and identifier",
        ),
        (
            {"voice": {"token": "t", "endpoint": "e", "sessionId": "s"}},
            "token, endpoint, sessionId and channelId must be provided in voice state",
        ),
        (
            {"voice": {**VOICE, "token": " "}},
            "token, endpoint, sessionId and channelId must be provided in voice state",
        ),
        ({"endTime": 0}, "End time must be greater than 0"),
        ({"volume": "loud"}, "Failed to read request"),
    ],
)
async def test_patch_400_messages(client: RawClient, body: object, message: str) -> None:
    status, answer = await client.patch(GUILD, body)
    assert status == 400
    assert answer["message"] == message
    assert answer["path"] == client.player_path(GUILD)


async def test_identifier_must_resolve_to_one_track(client: RawClient) -> None:
    ids = sample_identifiers()
    status, body = await client.patch(GUILD, {"track": {"identifier": ids["search"]}})
    assert (status, body["message"]) == (400, "Cannot play a playlist or search result")
    status, body = await client.patch(GUILD, {"track": {"identifier": ids["empty"]}})
    assert (status, body["message"]) == (400, "No matches found for identifier")
    status, body = await client.patch(GUILD, {"track": {"identifier": ids["track"]}})
    assert status == 200
    assert body["track"]["info"]["uri"] is not None


async def test_player_object_shape_before_voice(client: RawClient) -> None:
    status, player = await client.patch(GUILD, {"volume": 1500})
    assert status == 200
    assert player["guildId"] == str(GUILD)
    assert player["volume"] == 1000
    assert player["track"] is None
    assert player["voice"] == {"token": "", "endpoint": "", "sessionId": "", "channelId": None}
    assert player["state"]["connected"] is False
    assert player["state"]["ping"] == -1
    status, listed = await client.request("GET", f"/v4/sessions/{client.session_id}/players")
    assert status == 200
    assert [p["guildId"] for p in listed] == [str(GUILD)]


async def test_voice_connects_and_sends_player_update(client: RawClient) -> None:
    await client.collect()
    await client.connect_voice(GUILD)
    update = await client.until(lambda m: m["op"] == "playerUpdate")
    assert update["guildId"] == str(GUILD)
    assert update["state"]["connected"] is True


async def test_play_sends_track_start_then_player_update(client: RawClient) -> None:
    await client.connect_voice(GUILD)
    await client.collect()
    track = await client.load_track(sample_identifiers()["track"])
    status, player = await client.patch(
        GUILD, {"track": {"encoded": track["encoded"], "userData": {"requester": "42"}}}
    )
    assert status == 200
    assert player["track"]["userData"] == {"requester": "42"}
    assert player["paused"] is False
    messages = await client.collect()
    assert [m.get("type", m["op"]) for m in messages] == ["TrackStartEvent", "playerUpdate"]
    assert messages[0]["track"]["userData"] == {"requester": "42"}


async def test_replace_sends_end_replaced_then_start_before_response(client: RawClient) -> None:
    ids = sample_identifiers()
    await client.connect_voice(GUILD)
    first = await client.load_track(ids["track"])
    second = await client.load_track(ids["stream"])
    await client.patch(GUILD, {"track": {"encoded": first["encoded"]}})
    await client.collect()
    status, _ = await client.patch(GUILD, {"track": {"encoded": second["encoded"]}})
    assert status == 200
    # Everything was written to the socket before the HTTP answer: it is already there.
    messages = await client.collect(quiet=0.05)
    kinds = [m.get("type", m["op"]) for m in messages]
    assert kinds == ["TrackEndEvent", "TrackStartEvent", "playerUpdate"]
    assert messages[0]["reason"] == "replaced"
    assert messages[0]["track"]["encoded"] != second["encoded"]
    assert messages[1]["track"]["info"]["isStream"] is True


async def test_no_replace_keeps_the_playing_track(client: RawClient) -> None:
    ids = sample_identifiers()
    first = await client.load_track(ids["track"])
    second = await client.load_track(ids["stream"])
    await client.patch(GUILD, {"track": {"encoded": first["encoded"]}})
    await client.collect()
    status, player = await client.patch(
        GUILD, {"track": {"encoded": second["encoded"]}}, no_replace=True
    )
    assert status == 200
    assert player["track"]["info"]["identifier"] == first["info"]["identifier"]
    assert await client.events() == []


async def test_encoded_null_stops(client: RawClient) -> None:
    track = await client.load_track(sample_identifiers()["track"])
    await client.patch(GUILD, {"track": {"encoded": track["encoded"]}})
    await client.collect()
    status, player = await client.patch(GUILD, {"track": {"encoded": None}})
    assert status == 200
    assert player["track"] is None
    assert await client.events() == ["TrackEndEvent(stopped)"]


async def test_legacy_encoded_track_field_still_works(client: RawClient) -> None:
    track = await client.load_track(sample_identifiers()["track"])
    status, player = await client.patch(GUILD, {"encodedTrack": track["encoded"]})
    assert status == 200
    assert player["track"]["encoded"] == track["encoded"]
    status, player = await client.patch(GUILD, {"encodedTrack": None})
    assert status == 200
    assert player["track"] is None


async def test_new_track_unpauses_unless_paused_given(client: RawClient) -> None:
    track = await client.load_track(sample_identifiers()["track"])
    await client.patch(GUILD, {"paused": True})
    _status, player = await client.patch(GUILD, {"track": {"encoded": track["encoded"]}})
    assert player["paused"] is False
    _status, player = await client.patch(
        GUILD, {"track": {"encoded": track["encoded"]}, "paused": True}
    )
    assert player["paused"] is True


async def test_user_data_position_end_time_apply_to_current_track(
    client: RawClient, lavalink_emulator: LavalinkEmulator
) -> None:
    await client.connect_voice(GUILD)
    track = await client.load_track(sample_identifiers()["track"])
    await client.patch(GUILD, {"track": {"encoded": track["encoded"]}, "position": 5_000})
    await client.collect()
    status, player = await client.patch(
        GUILD, {"track": {"userData": {"k": 1}}, "position": 20_000, "endTime": 30_000}
    )
    assert status == 200
    assert player["track"]["userData"] == {"k": 1}
    assert player["state"]["position"] == 20_000
    assert player["track"]["info"]["position"] == 20_000
    seek_update = await client.until(lambda m: m["op"] == "playerUpdate")
    assert seek_update["state"]["position"] == 20_000
    await lavalink_emulator.control.advance(10_000)
    end = await client.event("TrackEndEvent")
    assert end["reason"] == "finished"


async def test_filters_replace_and_are_echoed(client: RawClient) -> None:
    await client.patch(GUILD, {"filters": {"volume": 0.5, "timescale": {"speed": 1.5}}})
    await client.collect()
    status, player = await client.patch(GUILD, {"filters": {"karaoke": {"level": 1.0}}})
    assert status == 200
    assert player["filters"] == {"karaoke": {"level": 1.0}}
    assert [m["op"] for m in await client.collect()] == ["playerUpdate"]


async def test_delete_stops_the_track_and_removes_the_player(client: RawClient) -> None:
    track = await client.load_track(sample_identifiers()["track"])
    await client.patch(GUILD, {"track": {"encoded": track["encoded"]}})
    await client.collect()
    status, _ = await client.request("DELETE", client.player_path(GUILD))
    assert status == 204
    assert await client.events() == ["TrackEndEvent(stopped)"]
    assert (await client.request("GET", client.player_path(GUILD)))[0] == 404
    assert (await client.request("DELETE", client.player_path(GUILD)))[0] == 204


async def test_patch_session_sets_resuming_and_timeout(client: RawClient) -> None:
    path = f"/v4/sessions/{client.session_id}"
    status, body = await client.request("PATCH", path, {})
    assert (status, body) == (200, {"resuming": False, "timeout": 60})
    status, body = await client.request("PATCH", path, {"resuming": True, "timeout": 5})
    assert (status, body) == (200, {"resuming": True, "timeout": 5})
    status, body = await client.request("PATCH", "/v4/sessions/unknown", {"resuming": True})
    assert status == 404


async def test_bad_guild_id_is_400(client: RawClient) -> None:
    status, body = await client.request("GET", f"/v4/sessions/{client.session_id}/players/abc")
    assert status == 400
    assert body["status"] == 400
