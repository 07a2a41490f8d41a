"""The track codec against real Lavalink/lavaplayer strings and against lavalink.py's decoder."""

from __future__ import annotations

import base64
from dataclasses import dataclass, replace

import lavalink
import pytest

from backbeat.testing.lavalink.codec import (
    STREAM_LENGTH,
    LavaSrcInfo,
    TrackDecodeError,
    TrackInfo,
    decode_track,
    encode_track,
    track_json,
)


@dataclass(frozen=True)
class Vector:
    """A track string written by a real Lavalink node, with the fields it must decode to."""

    name: str
    encoded: str
    expected: TrackInfo


_YT = "https://www.youtube.com/watch?v="

VECTORS = [
    # lavalink-devs/Lavalink docs/api/rest.md (the decodetrack example; format v2).
    Vector(
        "lavalink-docs-rick-astley-v2",
        "QAAAjQIAJVJpY2sgQXN0bGV5IC0gTmV2ZXIgR29ubmEgR2l2ZSBZb3UgVXAADlJpY2tBc3RsZXlWRVZPAAAAAAAD"
        "PCAAC2RRdzR3OVdnWGNRAAEAK2h0dHBzOi8vd3d3LnlvdXR1YmUuY29tL3dhdGNoP3Y9ZFF3NHc5V2dYY1EAB3lv"
        "dXR1YmUAAAAAAAAAAA==",
        TrackInfo(
            title="Rick Astley - Never Gonna Give You Up",
            author="RickAstleyVEVO",
            length=212000,
            identifier="dQw4w9WgXcQ",
            is_stream=False,
            uri=_YT + "dQw4w9WgXcQ",
            source_name="youtube",
            version=2,
        ),
    ),
    # itslukej/encoding README.md (the @lavalink/encoding example; format v2).
    Vector(
        "lavalink-encoding-readme-v2",
        "QAAAkwIANFNrcmlsbGV4ICYgSGFic3RyYWt0IC0gQ2hpY2tlbiBTb3VwIFtPZmZpY2lhbCBBdWRpb10ABU9XU0xB"
        "AAAAAAADLIAACzIyTVdyV1BWX1FNAAEAK2h0dHBzOi8vd3d3LnlvdXR1YmUuY29tL3dhdGNoP3Y9MjJNV3JXUFZf"
        "UU0AB3lvdXR1YmUAAAAAAAAAAA==",
        TrackInfo(
            title="Skrillex & Habstrakt - Chicken Soup [Official Audio]",
            author="OWSLA",
            length=208000,
            identifier="22MWrWPV_QM",
            is_stream=False,
            uri=_YT + "22MWrWPV_QM",
            source_name="youtube",
            version=2,
        ),
    ),
    # angelobreuer/Lavalink4NET tests/Lavalink4NET.Abstractions.Tests/LavalinkTrackTests.cs
    # (TestTrackDecodeEncodeRoundtripV2; a YouTube track, format v2).
    Vector(
        "lavalink4net-vance-joy-v2",
        "QAAAjAIAJFZhbmNlIEpveSAtICdSaXB0aWRlJyBPZmZpY2lhbCBWaWRlbwAObXVzaHJvb212aWRlb3MAAAAAAAMg"
        "yAALdUpfMUhNQUdiNGsAAQAraHR0cHM6Ly93d3cueW91dHViZS5jb20vd2F0Y2g/dj11Sl8xSE1BR2I0awAHeW91"
        "dHViZQAAAAAAAAAA",
        TrackInfo(
            title="Vance Joy - 'Riptide' Official Video",
            author="mushroomvideos",
            length=205000,
            identifier="uJ_1HMAGb4k",
            is_stream=False,
            uri=_YT + "uJ_1HMAGb4k",
            source_name="youtube",
            version=2,
        ),
    ),
    # angelobreuer/Lavalink4NET tests/Lavalink4NET.Abstractions.Tests/LavalinkTrackTests.cs
    # (TestTrackDecodeEncodeRoundtripV2; an http track with probe info "mp3").
    Vector(
        "lavalink4net-http-mp3-v2",
        "QAAAiwIAC0RlYXRoIG9mIE1lAApTQUlOVCBQSE5YAAAAAAAAdVgAKGh0dHBzOi8vd3d3Lm1ib3hkcml2ZS5jb20v"
        "c3RhcnRtdXNpYy5tcDMAAQAoaHR0cHM6Ly93d3cubWJveGRyaXZlLmNvbS9zdGFydG11c2ljLm1wMwAEaHR0cAAD"
        "bXAzAAAAAAAAAAA=",
        TrackInfo(
            title="Death of Me",
            author="SAINT PHNX",
            length=30040,
            identifier="https://www.mboxdrive.com/startmusic.mp3",
            is_stream=False,
            uri="https://www.mboxdrive.com/startmusic.mp3",
            source_name="http",
            probe_info="mp3",
            version=2,
        ),
    ),
    # angelobreuer/Lavalink4NET tests/Lavalink4NET.Abstractions.Tests/LavalinkTrackTests.cs
    # (TestTrackDecoding, marked "v3"; artwork URL present, ISRC absent).
    Vector(
        "lavalink4net-rick-astley-v3",
        "QAAA2QMAPFJpY2sgQXN0bGV5IC0gTmV2ZXIgR29ubmEgR2l2ZSBZb3UgVXAgKE9mZmljaWFsIE11c2ljIFZpZGVv"
        "KQALUmljayBBc3RsZXkAAAAAAANACAALZFF3NHc5V2dYY1EAAQAraHR0cHM6Ly93d3cueW91dHViZS5jb20vd2F0"
        "Y2g/dj1kUXc0dzlXZ1hjUQEANGh0dHBzOi8vaS55dGltZy5jb20vdmkvZFF3NHc5V2dYY1EvbWF4cmVzZGVmYXVs"
        "dC5qcGcAAAd5b3V0dWJlAAAAAAAAAAA=",
        TrackInfo(
            title="Rick Astley - Never Gonna Give You Up (Official Music Video)",
            author="Rick Astley",
            length=213000,
            identifier="dQw4w9WgXcQ",
            is_stream=False,
            uri=_YT + "dQw4w9WgXcQ",
            source_name="youtube",
            artwork_url="https://i.ytimg.com/vi/dQw4w9WgXcQ/maxresdefault.jpg",
        ),
    ),
    # angelobreuer/Lavalink4NET tests/Lavalink4NET.Abstractions.Tests/LavalinkTrackTests.cs
    # (TestKnownTrackWithSpecialCharacters: a Lavalink v4 track object whose title ends in a
    # non-BMP emoji, written as two 3-byte surrogates: ED A0 BC ED BC BF).
    Vector(
        "lavalink4net-emoji-title-v3",
        "QAAA2gMAN0NvenkgYW5pbWFsIGNyb3NzaW5nIG11c2ljIHRoYXQgY3VyZSBteSBoZWFkYWNoZXPtoLztvL8AC1Rl"
        "bmRvIEZhcm1zAAAAAAA/26gACzhUYkx1Qk9DbFNnAAEAK2h0dHBzOi8vd3d3LnlvdXR1YmUuY29tL3dhdGNoP3Y9"
        "OFRiTHVCT0NsU2cBADpodHRwczovL2kueXRpbWcuY29tL3ZpX3dlYnAvOFRiTHVCT0NsU2cvbWF4cmVzZGVmYXVs"
        "dC53ZWJwAAAHeW91dHViZQAAAAAAAAAA",
        TrackInfo(
            title="Cozy animal crossing music that cure my headaches\U0001f33f",
            author="Tendo Farms",
            length=4185000,
            identifier="8TbLuBOClSg",
            is_stream=False,
            uri=_YT + "8TbLuBOClSg",
            source_name="youtube",
            artwork_url="https://i.ytimg.com/vi_webp/8TbLuBOClSg/maxresdefault.webp",
        ),
    ),
    # angelobreuer/Lavalink4NET tests/Lavalink4NET.Abstractions.Tests/LavalinkTrackTests.cs
    # (TestTrackDecodeEncodeRoundtripV3, "Previous sample from failing decode": a LavaSrc Spotify
    # track with album, artist, artwork and preview fields after the source name).
    Vector(
        "lavalink4net-lavasrc-spotify-v3",
        "QAACLgMAIFZvaXMgc3VyIHRvbiBjaGVtaW4gLSBUZWNobm8gTWl4AAdCRU5ORVRUAAAAAAACt+wAFjMxbmZkRW9v"
        "TEVxN2RuM1VNY0llQjUAAQA1aHR0cHM6Ly9vcGVuLnNwb3RpZnkuY29tL3RyYWNrLzMxbmZkRW9vTEVxN2RuM1VN"
        "Y0llQjUBAEBodHRwczovL2kuc2Nkbi5jby9pbWFnZS9hYjY3NjE2ZDAwMDBiMjczMWI5NmU2NDUwMTZjNGQ0MzE4"
        "NDJhYTkzAQAMREVBNjIyMzAxODAxAAdzcG90aWZ5AQAgVm9pcyBzdXIgdG9uIGNoZW1pbiAoVGVjaG5vIE1peCkB"
        "ADVodHRwczovL29wZW4uc3BvdGlmeS5jb20vYWxidW0vNzlDeWM4R1JXbkx5amRKU015SjBkQgEANmh0dHBzOi8v"
        "b3Blbi5zcG90aWZ5LmNvbS9hcnRpc3QvMXI0M3dXNzB0bkdVYXVRWXZZNXc0OAEAQGh0dHBzOi8vaS5zY2RuLmNv"
        "L2ltYWdlL2FiNjc2MTYxMDAwMGU1ZWI4MTFiYzk2N2VlZDNkNjFlMThmZGE0OWIBAGtodHRwczovL3Auc2Nkbi5j"
        "by9tcDMtcHJldmlldy8zMzU0YWZlNDI5NmQyYjg4OWQzNjk2NTgwNGQ0MTRjNWMyYjM0MTJiP2NpZD1kZmI5Zjcx"
        "MDNmNDI0M2Q2Yjg5NzcyYjBhZDhmMTkwNgAAAAAAAAAAAA==",
        TrackInfo(
            title="Vois sur ton chemin - Techno Mix",
            author="BENNETT",
            length=178156,
            identifier="31nfdEooLEq7dn3UMcIeB5",
            is_stream=False,
            uri="https://open.spotify.com/track/31nfdEooLEq7dn3UMcIeB5",
            source_name="spotify",
            artwork_url="https://i.scdn.co/image/ab67616d0000b2731b96e645016c4d431842aa93",
            isrc="DEA622301801",
            lavasrc=LavaSrcInfo(
                album_name="Vois sur ton chemin (Techno Mix)",
                album_url="https://open.spotify.com/album/79Cyc8GRWnLyjdJSMyJ0dB",
                artist_url="https://open.spotify.com/artist/1r43wW70tnGUauQYvY5w48",
                artist_artwork_url=(
                    "https://i.scdn.co/image/ab6761610000e5eb811bc967eed3d61e18fda49b"
                ),
                preview_url=(
                    "https://p.scdn.co/mp3-preview/3354afe4296d2b889d36965804d414c5c2b3412b"
                    "?cid=dfb9f7103f4243d6b89772b0ad8f1906"
                ),
                is_preview=False,
            ),
        ),
    ),
    # Xirado/spotify-plugin README.md (TrackStartEvent example of the older Spotify plugin: no
    # extra source bytes, and a non-zero start position).
    Vector(
        "spotify-plugin-readme-position-v2",
        "QAAAdwIADTMyNTM0NmI0NTZiNTYAEDc0NXY5NjQ4OTY3dmI0ODkAAAAAAAO9CAALamRXaEpjcnJqUXMAAQAraHR0"
        "cHM6Ly93d3cueW91dHViZS5jb20vd2F0Y2g/dj1qZFdoSmNycmpRcwAHc3BvdGlmeQAAAAAAA7ok",
        TrackInfo(
            title="325346b456b56",
            author="745v9648967vb489",
            length=245000,
            identifier="jdWhJcrrjQs",
            is_stream=False,
            uri=_YT + "jdWhJcrrjQs",
            source_name="spotify",
            position=244260,
            version=2,
        ),
    ),
]


def _lavalink_py_decode(encoded: str) -> lavalink.AudioTrack:
    return lavalink.decode_track(encoded)


def _assert_lavalink_py_agrees(encoded: str, info: TrackInfo) -> None:
    theirs = _lavalink_py_decode(encoded)
    assert theirs.title == info.title
    assert theirs.author == info.author
    assert theirs.duration == info.length
    assert theirs.identifier == info.identifier
    assert theirs.is_stream == info.is_stream
    assert theirs.uri == info.uri
    assert theirs.source_name == info.source_name
    assert theirs.extra["position"] == info.position
    assert theirs.extra["encoder_version"] == info.version
    if info.version >= 3:
        assert theirs.artwork_url == info.artwork_url
        assert theirs.isrc == info.isrc
    specific = theirs.extra["source_specific"]
    if info.probe_info is not None:
        assert specific == {"probe_info": info.probe_info}
    if info.lavasrc is not None:
        assert specific == {
            "album_name": info.lavasrc.album_name,
            "album_url": info.lavasrc.album_url,
            "artist_url": info.lavasrc.artist_url,
            "artist_artwork_url": info.lavasrc.artist_artwork_url,
            "preview_url": info.lavasrc.preview_url,
            "is_preview": info.lavasrc.is_preview,
        }


@pytest.mark.parametrize("vector", VECTORS, ids=[v.name for v in VECTORS])
def test_real_lavalink_string_decodes_to_its_fields(vector: Vector) -> None:
    assert decode_track(vector.encoded) == vector.expected


@pytest.mark.parametrize("vector", VECTORS, ids=[v.name for v in VECTORS])
def test_real_lavalink_string_reencodes_byte_identical(vector: Vector) -> None:
    assert encode_track(vector.expected) == vector.encoded


@pytest.mark.parametrize("vector", VECTORS, ids=[v.name for v in VECTORS])
def test_lavalink_py_reads_real_strings_as_we_do(vector: Vector) -> None:
    _assert_lavalink_py_agrees(vector.encoded, decode_track(vector.encoded))


_BASE = TrackInfo(
    title="Glass Harbor - Night Ferry [Official Video]",
    author="Glass Harbor",
    length=201_000,
    identifier="bbAAAAAAAA1",
    is_stream=False,
    uri="https://www.youtube.com/watch?v=bbAAAAAAAA1",
    source_name="youtube",
    artwork_url="https://img.backbeat.invalid/yt/bbAAAAAAAA1.jpg",
    isrc="QZBB12500001",
)

OWN_TRACKS = {
    "plain": _BASE,
    "emoji-title": replace(_BASE, title="Night Ferry \U0001f30a\U0001f3b6 (Lyrics)"),
    "emoji-author": replace(_BASE, author="Glass Harbor \U0001f98a"),
    "nul-in-title": replace(_BASE, title="Null\x00Byte Blues"),
    "latin-cjk": replace(_BASE, title="Café Ümlaut – 夜の船 ♪", author="Ångström"),
    "nullables-absent": replace(_BASE, uri=None, artwork_url=None, isrc=None),
    "position": replace(_BASE, position=93_500),
    "stream": replace(
        _BASE,
        title="Backbeat FM 24/7 radio",
        length=STREAM_LENGTH,
        identifier="https://radio.backbeat.invalid/live.mp3",
        is_stream=True,
        uri="https://radio.backbeat.invalid/live.mp3",
        source_name="http",
        artwork_url=None,
        isrc=None,
        probe_info="mp3",
    ),
    "http-probe-parameters": replace(
        _BASE,
        identifier="https://cdn.backbeat.invalid/a.ts",
        uri="https://cdn.backbeat.invalid/a.ts",
        source_name="http",
        probe_info="mpegts|aac",
    ),
    "lavasrc-spotify": replace(
        _BASE,
        identifier="4uLU6hMCjMI75M1A2tKUQC",
        uri="https://open.spotify.com/track/4uLU6hMCjMI75M1A2tKUQC",
        source_name="spotify",
        lavasrc=LavaSrcInfo(
            album_name="Harbor Lights",
            album_url="https://open.spotify.com/album/1aaaaaaaaaaaaaaaaaaaaa",
            artist_url="https://open.spotify.com/artist/2aaaaaaaaaaaaaaaaaaaaa",
            artist_artwork_url=None,
            preview_url="https://preview.backbeat.invalid/p.mp3",
            is_preview=True,
        ),
    ),
    "lavasrc-all-null": replace(_BASE, source_name="deezer", lavasrc=LavaSrcInfo()),
    "v2": replace(_BASE, version=2, artwork_url=None, isrc=None),
}


@pytest.mark.parametrize("name", list(OWN_TRACKS))
def test_own_strings_round_trip_and_lavalink_py_agrees(name: str) -> None:
    info = OWN_TRACKS[name]
    encoded = encode_track(info)
    assert decode_track(encoded) == info
    _assert_lavalink_py_agrees(encoded, info)


def _body(info: TrackInfo) -> bytes:
    return base64.b64decode(encode_track(info))


def test_header_is_versioned_flag_and_body_size() -> None:
    raw = _body(_BASE)
    header = int.from_bytes(raw[:4], "big")
    assert header >> 30 == 1
    assert header & 0x3FFFFFFF == len(raw) - 4
    assert raw[4] == 3


def test_nul_is_written_as_c0_80() -> None:
    raw = _body(replace(_BASE, title="a\x00b"))
    assert b"\x00\x04a\xc0\x80b" in raw


def test_non_bmp_character_is_written_as_two_three_byte_surrogates() -> None:
    raw = _body(replace(_BASE, title="\U0001f30a"))
    assert b"\x00\x06\xed\xa0\xbc\xed\xbc\x8a" in raw
    assert "\U0001f30a".encode() not in raw


def test_version_1_has_no_flag_no_version_byte_and_no_uri() -> None:
    info = replace(_BASE, version=1, uri=None, artwork_url=None, isrc=None)
    raw = _body(info)
    assert int.from_bytes(raw[:4], "big") >> 30 == 0
    assert raw[4:6] == len(info.title).to_bytes(2, "big")
    assert decode_track(encode_track(info)) == info


def test_unknown_source_bytes_are_kept_verbatim() -> None:
    info = replace(_BASE, source_name="somefuture", raw_source_bytes=b"\x01\x02\x03")
    encoded = encode_track(info)
    assert decode_track(encoded) == info


def test_to_json_has_lavalink_keys_in_order() -> None:
    assert list(_BASE.to_json()) == [
        "identifier",
        "isSeekable",
        "author",
        "length",
        "isStream",
        "position",
        "title",
        "uri",
        "artworkUrl",
        "isrc",
        "sourceName",
    ]
    assert OWN_TRACKS["stream"].to_json()["isSeekable"] is False


def test_track_json_carries_plugin_info_and_user_data() -> None:
    body = track_json(_BASE, user_data={"requester": 7})
    assert body == {
        "encoded": encode_track(_BASE),
        "info": _BASE.to_json(),
        "pluginInfo": {},
        "userData": {"requester": 7},
    }
    spotify = track_json(OWN_TRACKS["lavasrc-spotify"])
    assert spotify["pluginInfo"] == {
        "albumName": "Harbor Lights",
        "albumUrl": "https://open.spotify.com/album/1aaaaaaaaaaaaaaaaaaaaa",
        "artistUrl": "https://open.spotify.com/artist/2aaaaaaaaaaaaaaaaaaaaa",
        "artistArtworkUrl": None,
        "previewUrl": "https://preview.backbeat.invalid/p.mp3",
        "isPreview": True,
    }


def test_overlong_text_is_refused_like_java_write_utf() -> None:
    with pytest.raises(ValueError, match="too long"):
        encode_track(replace(_BASE, title="x" * 65536))
    encode_track(replace(_BASE, title="x" * 65535))


@pytest.mark.parametrize(
    "garbage",
    ["", "not base64 at all!", "QUJD", "AAAAAA==", "/////w==", base64.b64encode(b"\x40" * 40)],
)
def test_garbage_raises_track_decode_error(garbage: str | bytes) -> None:
    text = garbage.decode() if isinstance(garbage, bytes) else garbage
    with pytest.raises(TrackDecodeError):
        decode_track(text)


def test_every_truncation_of_a_real_string_raises_track_decode_error() -> None:
    raw = base64.b64decode(VECTORS[-2].encoded)
    for size in range(len(raw)):
        with pytest.raises(TrackDecodeError):
            decode_track(base64.b64encode(raw[:size]).decode())


def test_unsupported_version_and_malformed_utf_raise() -> None:
    raw = bytearray(_body(_BASE))
    raw[4] = 9
    with pytest.raises(TrackDecodeError, match="version"):
        decode_track(base64.b64encode(bytes(raw)).decode())
    raw = bytearray(_body(replace(_BASE, title="ab")))
    raw[7] = 0xFF
    with pytest.raises(TrackDecodeError, match="UTF-8"):
        decode_track(base64.b64encode(bytes(raw)).decode())
