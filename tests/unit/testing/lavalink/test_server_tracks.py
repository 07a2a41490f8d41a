"""Loading and decoding tracks over REST: the five load types, decode routes, plugins."""

from __future__ import annotations

import pytest
from lavalink_raw_client import RawClient, sample_identifiers

from backbeat.testing.lavalink.codec import decode_track
from backbeat.testing.lavalink.server import LavalinkEmulator


async def test_loadtracks_track(client: RawClient) -> None:
    body = await client.load(sample_identifiers()["track"])
    assert body["loadType"] == "track"
    track = body["data"]
    assert set(track) == {"encoded", "info", "pluginInfo", "userData"}
    assert decode_track(track["encoded"]).title == track["info"]["title"]


async def test_loadtracks_playlist_search_and_empty(client: RawClient) -> None:
    ids = sample_identifiers()
    playlist = await client.load(ids["playlist"])
    assert playlist["loadType"] == "playlist"
    assert {"info", "pluginInfo", "tracks"} <= set(playlist["data"])
    assert isinstance(playlist["data"]["info"]["selectedTrack"], int)
    search = await client.load(ids["search"])
    assert search["loadType"] == "search"
    assert isinstance(search["data"], list)
    assert search["data"]
    empty = await client.load(ids["empty"])
    assert empty == {"loadType": "empty", "data": None}


async def test_loadtracks_error_carries_exception(
    client: RawClient, lavalink_emulator: LavalinkEmulator
) -> None:
    identifier = sample_identifiers()["track"]
    await lavalink_emulator.control.fail_load(identifier, kind="bot_check", times=1)
    body = await client.load(identifier)
    assert body["loadType"] == "error"
    assert body["data"]["message"] == "Sign in to confirm you’re not a bot"
    assert body["data"]["severity"] == "common"
    assert {"cause", "causeStackTrace"} <= set(body["data"])
    assert (await client.load(identifier))["loadType"] == "track"


async def test_loadtracks_without_identifier_is_400(client: RawClient) -> None:
    status, body = await client.request("GET", "/v4/loadtracks")
    assert status == 400
    assert "identifier" in body["message"]


async def test_decodetrack_accepts_both_parameter_names(client: RawClient) -> None:
    track = await client.load_track(sample_identifiers()["track"])
    for name in ("encodedTrack", "track"):
        status, body = await client.request(
            "GET", "/v4/decodetrack", params={name: track["encoded"]}
        )
        assert status == 200
        assert body["info"] == track["info"]
        assert body["encoded"] == track["encoded"]
    status, body = await client.request("GET", "/v4/decodetrack")
    assert status == 400
    assert body["message"] == "No track to decode provided"


async def test_decodetracks(client: RawClient) -> None:
    ids = sample_identifiers()
    encoded = [(await client.load_track(ids[k]))["encoded"] for k in ("track", "stream")]
    status, body = await client.request("POST", "/v4/decodetracks", encoded)
    assert status == 200
    assert [t["encoded"] for t in body] == encoded
    assert body[1]["info"]["isStream"] is True
    assert body[1]["info"]["length"] == 9223372036854775807
    status, empty = await client.request("POST", "/v4/decodetracks", [])
    assert status == 400
    assert empty["message"] == "No tracks to decode provided"


@pytest.mark.parametrize("body", ["not json", {"tracks": 1}])
async def test_decodetracks_rejects_bad_bodies(client: RawClient, body: object) -> None:
    status, answer = await client.request("POST", "/v4/decodetracks", body)
    assert status == 400
    assert answer["status"] == 400


async def test_loadsearch_finds_or_answers_204(client: RawClient) -> None:
    ids = sample_identifiers()
    query = ids["search"]
    status, body = await client.request(
        "GET", "/v4/loadsearch", params={"query": query, "types": "track,artist"}
    )
    assert status == 200
    assert body["tracks"]
    status, _ = await client.request(
        "GET", "/v4/loadsearch", params={"query": ids["empty"], "types": "track"}
    )
    assert status == 204
    status, _bad = await client.request(
        "GET", "/v4/loadsearch", params={"query": query, "types": "podcast"}
    )
    assert status == 400


async def test_lyrics_routes(client: RawClient) -> None:
    track = await client.load_track(sample_identifiers()["track"])
    status, _ = await client.request("GET", "/v4/lyrics", params={"track": track["encoded"]})
    assert status in (200, 204)
    status, body = await client.request("GET", client.player_path(3) + "/track/lyrics")
    assert status == 404
    await client.patch(3, {"volume": 100})
    status, body = await client.request("GET", client.player_path(3) + "/track/lyrics")
    assert status == 404
    assert body["message"] == "Not currently playing anything"
    sub = await client.request("POST", client.player_path(3) + "/lyrics/subscribe")
    assert sub[0] == 204
    await client.patch(3, {"track": {"encoded": track["encoded"]}})
    lyric_events = [m for m in await client.collect() if m.get("type", "").startswith("Lyrics")]
    assert [m["type"] for m in lyric_events] in (["LyricsFoundEvent"], ["LyricsNotFoundEvent"])
    unsub = await client.request("DELETE", client.player_path(3) + "/lyrics/subscribe")
    assert unsub[0] == 204
