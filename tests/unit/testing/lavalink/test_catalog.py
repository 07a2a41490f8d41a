"""The shipped catalog: its data, every way of reaching a track, LavaSearch and LavaLyrics."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import lavalink
import pytest

from backbeat.testing.lavalink.catalog import Catalog, CatalogTrack
from backbeat.testing.lavalink.catalog_data import catalog_document
from backbeat.testing.lavalink.catalog_gen import DEFAULT_PATH, generate, render
from backbeat.testing.lavalink.codec import STREAM_LENGTH, decode_track
from backbeat.testing.lavalink.failures import FAILURES

ISRC = re.compile(r"^[A-Z]{2}[A-Z0-9]{3}\d{2}\d{5}$")


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.default()


def _regular(catalog: Catalog) -> list[CatalogTrack]:
    return [
        t for t in catalog.tracks if not t.is_reupload and not t.is_stream and t.failure is None
    ]


def _data(body: dict[str, object]) -> dict[str, object]:
    data = body["data"]
    assert isinstance(data, dict)
    return data


def _tracks(body: dict[str, object]) -> list[dict[str, object]]:
    data = body["data"]
    tracks = data if isinstance(data, list) else _data(body)["tracks"]
    assert isinstance(tracks, list)
    return tracks


def _info(track: dict[str, object]) -> dict[str, object]:
    info = track["info"]
    assert isinstance(info, dict)
    return info


# --- the data -----------------------------------------------------------------------------


def test_shipped_file_is_what_the_generator_writes() -> None:
    assert DEFAULT_PATH.read_text(encoding="utf-8") == render(generate())


def test_catalog_has_the_required_size_and_genre_spread(catalog: Catalog) -> None:
    regular = _regular(catalog)
    assert len(catalog) >= 300
    assert len(regular) >= 300
    per_genre = Counter(t.genres[0] for t in regular)
    assert len([g for g, n in per_genre.items() if n >= 15]) >= 12


def test_every_track_is_complete(catalog: Catalog) -> None:
    for track in _regular(catalog):
        assert track.title
        assert track.artist
        assert track.album
        assert track.duration_ms > 30_000
        assert track.isrc is not None
        assert ISRC.match(track.isrc), track.isrc
        assert track.artwork_url is not None
        assert track.artwork_url.startswith("https://img.backbeat.invalid/")
        assert len(track.related) >= 5
        assert all(
            catalog.by_id[ref].artist == track.artist or catalog.by_id[ref].genres == track.genres
            for ref in track.related
        )
        assert track.youtube_id is not None
        assert len(track.youtube_id) == 11


def test_titles_carry_genre_cues_like_real_uploads(catalog: Catalog) -> None:
    titles = " | ".join(t.youtube_title for t in catalog.tracks)
    for cue in (
        "lofi hip hop beat to study to",
        "[Official Video]",
        "(Lyrics)",
        "Drum & Bass",
        "(Official Music Video)",
        "(Extended Mix)",
        "(Synthwave)",
    ):
        assert cue in titles


def test_songs_are_reuploaded_under_other_titles(catalog: Catalog) -> None:
    copies = Counter(t.song_id for t in catalog.tracks if t.is_reupload)
    assert len(copies) >= 3
    for song_id in copies:
        versions = [t for t in catalog.tracks if t.song_id == song_id]
        assert len({t.youtube_title for t in versions}) == len(versions) >= 3
        assert len({t.youtube_id for t in versions}) == len(versions)


def test_catalog_has_live_streams_on_youtube_and_http(catalog: Catalog) -> None:
    streams = [t for t in catalog.tracks if t.is_stream]
    assert any(t.youtube_id for t in streams)
    assert any(t.stream_url for t in streams)


def test_every_failure_kind_of_youtube_has_a_track(catalog: Catalog) -> None:
    kinds = {t.failure for t in catalog.tracks if t.failure}
    assert {"unavailable", "region_blocked", "age_restricted", "bot_check", "sign_in"} <= kinds
    assert kinds <= set(FAILURES)


def test_from_file_reads_a_catalog_and_refuses_other_files(tmp_path: Path) -> None:
    good = tmp_path / "catalog.json"
    good.write_text(render(generate(seed=7)), encoding="utf-8")
    assert len(Catalog.from_file(good)) == len(generate(seed=7).tracks)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"format": 1, "tracks": [{"id": "x"}]}), encoding="utf-8")
    with pytest.raises(ValueError, match="missing"):
        Catalog.from_file(bad)
    document = catalog_document(generate(seed=7))
    tracks = document["tracks"]
    assert isinstance(tracks, list)
    tracks[0]["related"] = ["nope"]
    bad.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(ValueError, match="unknown ids"):
        Catalog.from_file(bad)


# --- loadtracks: searches -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("prefix", "source"),
    [
        ("ytsearch:", "youtube"),
        ("ytmsearch:", "youtube"),
        ("scsearch:", "soundcloud"),
        ("spsearch:", "spotify"),
    ],
)
def test_search_prefixes_rank_by_query_words(catalog: Catalog, prefix: str, source: str) -> None:
    target = next(t for t in _regular(catalog) if t.soundcloud_path and t.spotify_id)
    body = catalog.load(f"{prefix}{target.artist} {target.title}")
    assert body["loadType"] == "search"
    results = _tracks(body)
    first = _info(results[0])
    assert first["sourceName"] == source
    assert target.title in str(first["title"])
    for track in results:
        assert decode_track(str(track["encoded"])).to_json() == track["info"]


def test_ytsearch_finds_genre_uploads(catalog: Catalog) -> None:
    results = _tracks(catalog.load("ytsearch:lofi hip hop beat to study to"))
    assert len(results) == 20
    assert all("lofi" in str(_info(t)["title"]).lower() for t in results[:10])


def test_ytmsearch_gives_clean_titles_on_youtube_music(catalog: Catalog) -> None:
    track = _regular(catalog)[40]
    first = _info(_tracks(catalog.load(f"ytmsearch:{track.title}"))[0])
    assert first["title"] == track.title
    assert first["author"] == track.artist
    assert str(first["uri"]).startswith("https://music.youtube.com/watch?v=")


def test_spsearch_tracks_carry_lavasrc_fields(catalog: Catalog) -> None:
    result = _tracks(catalog.load("spsearch:jazz"))[0]
    plugin_info = result["pluginInfo"]
    assert isinstance(plugin_info, dict)
    assert set(plugin_info) == {
        "albumName",
        "albumUrl",
        "artistUrl",
        "artistArtworkUrl",
        "previewUrl",
        "isPreview",
    }
    decoded = decode_track(str(result["encoded"]))
    assert decoded.lavasrc is not None
    assert decoded.lavasrc.album_name == plugin_info["albumName"]
    assert (
        lavalink.decode_track(str(result["encoded"])).extra["source_specific"]["album_name"]
        == (plugin_info["albumName"])
    )


@pytest.mark.parametrize(
    "identifier",
    [
        "ytsearch:qqqzzzxxy",
        "ytsearch:",
        "ytsearch:   ",
        "just some words",
        "amsearch:pop",
        "ftp://example.com/a.mp3",
        "https://www.youtube.com/watch?v=AAAAAAAAAAA",
        "https://open.spotify.com/track/0000000000000000000000",
        "https://soundcloud.com/nobody/x",
        "https://www.youtube.com/playlist?list=PLdoesnotexist",
        "",
        "   ",
    ],
)
def test_unknown_identifiers_are_empty_with_null_data(catalog: Catalog, identifier: str) -> None:
    assert catalog.load(identifier) == {"loadType": "empty", "data": None}


@pytest.mark.parametrize(
    "identifier",
    [
        "ytsearch:" + "a" * 5000,
        "ytsearch:pop\x00",
        "ytsearch:pop\r\nX-Evil: 1",
        "https://www.youtube.com/watch?v=\x07",
        "https://[::1",
        "https://%zz/\udcff",
        "spotify:",
        "sprec:",
        "https://open.spotify.com/",
        "https://youtu.be/",
    ],
)
def test_hostile_identifiers_never_raise(catalog: Catalog, identifier: str) -> None:
    body = catalog.load(identifier)
    assert body["loadType"] in ("empty", "error")
    json.dumps(body)


# --- loadtracks: URLs ---------------------------------------------------------------------


def test_youtube_url_forms_load_the_same_track(catalog: Catalog) -> None:
    track = _regular(catalog)[5]
    vid = track.youtube_id
    forms = [
        f"https://www.youtube.com/watch?v={vid}",
        f"https://www.youtube.com/watch?v={vid}&t=42s",
        f"https://youtube.com/watch?feature=share&v={vid}",
        f"https://m.youtube.com/watch?v={vid}",
        f"https://music.youtube.com/watch?v={vid}&si=abc",
        f"https://youtu.be/{vid}",
        f"https://youtu.be/{vid}?t=10",
        f"https://www.youtube.com/shorts/{vid}",
        f"  https://www.youtube.com/watch?v={vid}  ",
    ]
    for form in forms:
        body = catalog.load(form)
        assert body["loadType"] == "track", form
        info = _info(_data(body))
        assert info["identifier"] == vid
        assert info["title"] == track.youtube_title
        assert info["author"] == track.youtube_channel
        assert info["length"] == track.duration_ms
        assert info["sourceName"] == "youtube"


def test_youtube_playlist_url(catalog: Catalog) -> None:
    playlist = next(p for p in catalog.playlists if p.kind == "youtube")
    body = catalog.load(f"https://www.youtube.com/playlist?list={playlist.key}")
    assert body["loadType"] == "playlist"
    data = _data(body)
    assert data["info"] == {"name": playlist.name, "selectedTrack": -1}
    assert data["pluginInfo"] == {}
    assert [_info(t)["identifier"] for t in _tracks(body)] == [
        catalog.by_id[ref].youtube_id for ref in playlist.track_ids
    ]
    second = catalog.by_id[playlist.track_ids[1]].youtube_id
    body = catalog.load(f"https://www.youtube.com/watch?v={second}&list={playlist.key}")
    assert _data(body)["info"] == {"name": playlist.name, "selectedTrack": 1}


def test_youtube_mix_url_gives_related_tracks(catalog: Catalog) -> None:
    seed = _regular(catalog)[30]
    body = catalog.load(
        f"https://www.youtube.com/watch?v={seed.youtube_id}&list=RD{seed.youtube_id}&start_radio=1"
    )
    assert body["loadType"] == "playlist"
    data = _data(body)
    assert data["info"] == {"name": f"Mix - {seed.youtube_title}", "selectedTrack": 0}
    ids = [_info(t)["identifier"] for t in _tracks(body)]
    assert ids[0] == seed.youtube_id
    assert len(ids) == 25 == len(set(ids))
    related_ids = {catalog.by_id[ref].youtube_id for ref in seed.related}
    assert related_ids <= set(ids)


def test_soundcloud_track_and_set_urls(catalog: Catalog) -> None:
    track = next(t for t in _regular(catalog) if t.soundcloud_path)
    body = catalog.load(f"https://soundcloud.com/{track.soundcloud_path}?in=someone/sets/x")
    info = _info(_data(body))
    assert body["loadType"] == "track"
    assert info["sourceName"] == "soundcloud"
    assert info["title"] == track.title
    assert info["uri"] == f"https://soundcloud.com/{track.soundcloud_path}"
    assert str(info["identifier"]).startswith("O:https://api-v2.soundcloud.com/media/")
    sets = [p for p in catalog.playlists if p.kind == "soundcloud_set"]
    body = catalog.load(f"https://soundcloud.com/{sets[0].key}")
    assert body["loadType"] == "playlist"
    assert len(_tracks(body)) == len(sets[0].track_ids)


def test_spotify_track_album_playlist_and_artist_urls(catalog: Catalog) -> None:
    track = next(t for t in _regular(catalog) if t.spotify_id)
    for form in (
        f"https://open.spotify.com/track/{track.spotify_id}",
        f"https://open.spotify.com/intl-de/track/{track.spotify_id}?si=123",
        f"spotify:track:{track.spotify_id}",
    ):
        body = catalog.load(form)
        info = _info(_data(body))
        assert (info["sourceName"], info["title"], info["isrc"]) == (
            "spotify",
            track.title,
            track.isrc,
        )
    for kind in ("album", "playlist"):
        playlist = next(p for p in catalog.playlists if p.kind == f"spotify_{kind}")
        body = catalog.load(f"https://open.spotify.com/{kind}/{playlist.key}")
        data = _data(body)
        assert body["loadType"] == "playlist"
        plugin_info = data["pluginInfo"]
        assert isinstance(plugin_info, dict)
        assert plugin_info["type"] == kind
        assert plugin_info["totalTracks"] == len(playlist.track_ids) == len(_tracks(body))
    artist_url = _data(catalog.load(f"spotify:track:{track.spotify_id}"))["pluginInfo"]
    assert isinstance(artist_url, dict)
    body = catalog.load(str(artist_url["artistUrl"]))
    assert body["loadType"] == "playlist"
    assert all(_info(t)["author"] == track.artist for t in _tracks(body))


def test_spotify_recommendations(catalog: Catalog) -> None:
    track = next(t for t in _regular(catalog) if t.spotify_id)
    body = catalog.load(f"sprec:seed_tracks={track.spotify_id}")
    assert body["loadType"] == "playlist"
    assert _data(body)["info"] == {"name": "Spotify Recommendations:", "selectedTrack": -1}
    assert _tracks(body)


def test_direct_stream_urls_are_http_streams(catalog: Catalog) -> None:
    stream = next(t for t in catalog.tracks if t.stream_url)
    assert stream.stream_url is not None
    body = catalog.load(stream.stream_url)
    info = _info(_data(body))
    assert (info["isStream"], info["isSeekable"], info["length"]) == (True, False, STREAM_LENGTH)
    assert info["sourceName"] == "http"
    decoded = decode_track(str(_data(body)["encoded"]))
    assert decoded.probe_info == stream.probe_info
    assert lavalink.decode_track(str(_data(body)["encoded"])).extra["source_specific"] == {
        "probe_info": stream.probe_info
    }
    file_body = catalog.load("https://cdn.example.org/music/song.flac")
    file_info = decode_track(str(_data(file_body)["encoded"]))
    assert (file_info.is_stream, file_info.probe_info) == (False, "flac")
    assert catalog.load("https://example.org/article.html")["loadType"] == "error"


def test_youtube_live_stream(catalog: Catalog) -> None:
    live = next(t for t in catalog.tracks if t.is_stream and t.youtube_id)
    info = _info(_data(catalog.load(f"https://youtu.be/{live.youtube_id}")))
    assert (info["isStream"], info["length"]) == (True, STREAM_LENGTH)


def test_flagged_tracks_fail_with_youtube_messages(catalog: Catalog) -> None:
    messages = {}
    for track in catalog.tracks:
        if track.failure:
            body = catalog.load(f"https://www.youtube.com/watch?v={track.youtube_id}")
            assert body["loadType"] == "error"
            exception = _data(body)
            assert set(exception) == {"message", "severity", "cause", "causeStackTrace"}
            assert exception["severity"] in ("common", "suspicious", "fault")
            messages[track.failure] = exception["message"]
    assert messages["unavailable"] == "This video is unavailable"
    assert messages["region_blocked"] == "This video is not available in your country"
    assert str(messages["age_restricted"]).startswith("Sign in to confirm your age")
    assert messages["bot_check"] == "Sign in to confirm you\u2019re not a bot"
    assert messages["sign_in"] == "Please sign in"


def test_every_loaded_track_decodes_to_its_info(catalog: Catalog) -> None:
    assert any(ord(char) > 0xFFFF for t in catalog.tracks for char in t.youtube_title)
    for track in catalog.tracks:
        if track.youtube_id and not track.failure:
            body = catalog.load(f"https://youtu.be/{track.youtube_id}")
            data = _data(body)
            assert decode_track(str(data["encoded"])).to_json() == data["info"]
            assert catalog.lookup(decode_track(str(data["encoded"]))) == track
            theirs = lavalink.decode_track(str(data["encoded"]))
            assert (theirs.title, theirs.author) == (track.youtube_title, track.youtube_channel)


# --- related, lookup ----------------------------------------------------------------------


def test_related_starts_with_listed_relations_and_fills_with_genre(catalog: Catalog) -> None:
    track = _regular(catalog)[0]
    related = catalog.related(track, 25)
    assert [t.id for t in related[: len(track.related)]] == list(track.related)
    assert len(related) == 25
    assert track not in related
    assert all(not t.is_reupload and t.failure is None for t in related)
    copy = next(t for t in catalog.tracks if t.is_reupload)
    assert catalog.related(copy, 5) == catalog.related(catalog.by_id[copy.song_id], 5)


# --- LavaSearch ---------------------------------------------------------------------------


def test_loadsearch_spotify_returns_every_type(catalog: Catalog) -> None:
    artist = next(t for t in _regular(catalog) if t.spotify_id).artist
    body = catalog.load_search(f"spsearch:{artist}", set())
    assert body is not None
    assert set(body) == {"tracks", "albums", "artists", "playlists", "texts", "plugin"}
    assert body["tracks"]
    assert body["albums"]
    assert body["artists"]
    only_tracks = catalog.load_search(f"spsearch:{artist}", {"track"})
    assert only_tracks is not None
    assert only_tracks["tracks"]
    assert not only_tracks["albums"]
    assert not only_tracks["artists"]


def test_loadsearch_youtube_texts_and_playlists(catalog: Catalog) -> None:
    body = catalog.load_search("ytsearch:lofi", {"text", "playlist"})
    assert body is not None
    assert body["tracks"] == []
    texts = body["texts"]
    assert isinstance(texts, list)
    assert texts
    assert all(set(t) == {"text", "plugin"} for t in texts)
    assert body["playlists"]


def test_loadsearch_without_results_is_none(catalog: Catalog) -> None:
    assert catalog.load_search("ytsearch:qqqzzzxxy", set()) is None
    assert catalog.load_search("no prefix", set()) is None


# --- LavaLyrics ---------------------------------------------------------------------------


def test_lyrics_synced_plain_and_none(catalog: Catalog) -> None:
    kinds = Counter(t.lyrics for t in _regular(catalog))
    assert kinds["synced"]
    assert kinds["plain"]
    assert kinds[None]
    for mode in ("synced", "plain", None):
        track = next(t for t in _regular(catalog) if t.lyrics == mode)
        info = decode_track(
            str(_data(catalog.load(f"https://youtu.be/{track.youtube_id}"))["encoded"])
        )
        lyrics = catalog.lyrics_for(info)
        if mode is None:
            assert lyrics is None
            continue
        assert lyrics is not None
        assert set(lyrics) == {"sourceName", "provider", "text", "lines", "plugin"}
        assert track.title.split(",")[0] in str(lyrics["text"])
        lines = lyrics["lines"]
        assert isinstance(lines, list)
        if mode == "plain":
            assert lines == []
            continue
        stamps = [line["timestamp"] for line in lines]
        assert stamps == sorted(stamps)
        assert stamps[-1] < track.duration_ms
        assert all(set(line) == {"timestamp", "duration", "line", "plugin"} for line in lines)
    assert (
        catalog.lyrics_for(decode_track(str(_data(catalog.load("https://x.org/a.mp3"))["encoded"])))
        is None
    )
