"""How each source presents a catalog track: the TrackInfo and Track JSON Lavalink returns.

YouTube shows the upload (title with genre cues, channel as author); YouTube Music, Spotify
and SoundCloud show the clean song title and artist.  Spotify tracks carry LavaSrc's extra
fields.  Derived identifiers (SoundCloud stream ids, Spotify artist ids) are hashes of the
catalog id, so they are stable across runs.
"""

from __future__ import annotations

import hashlib

from backbeat.testing.lavalink.catalog_data import CatalogPlaylist, CatalogTrack
from backbeat.testing.lavalink.codec import STREAM_LENGTH, LavaSrcInfo, TrackInfo, track_json

__all__ = [
    "ART_HOST",
    "http_info",
    "playlist_json",
    "soundcloud_info",
    "spotify_artist_id",
    "spotify_info",
    "youtube_info",
    "youtube_music_info",
]

ART_HOST = "https://img.backbeat.invalid"
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _digest(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:16], "big")


def spotify_artist_id(artist: str) -> str:
    """A stable 22-character Spotify-style id for an artist name."""
    value, chars = _digest("artist:" + artist), []
    for _ in range(22):
        value, digit = divmod(value, 62)
        chars.append(_BASE62[digit])
    return "".join(chars)


def _length(track: CatalogTrack) -> int:
    return STREAM_LENGTH if track.is_stream else track.duration_ms


def youtube_info(track: CatalogTrack) -> TrackInfo:
    """The track as youtube-source returns it for a watch URL or ``ytsearch:``."""
    assert track.youtube_id is not None
    suffix = "hqdefault_live.jpg" if track.is_stream else "maxresdefault.jpg"
    return TrackInfo(
        title=track.youtube_title,
        author=track.youtube_channel,
        length=_length(track),
        identifier=track.youtube_id,
        is_stream=track.is_stream,
        uri=f"https://www.youtube.com/watch?v={track.youtube_id}",
        source_name="youtube",
        artwork_url=f"{ART_HOST}/vi/{track.youtube_id}/{suffix}",
    )


def youtube_music_info(track: CatalogTrack) -> TrackInfo:
    """The track as a ``ytmsearch:`` (YouTube Music) result: clean song title and artist."""
    assert track.youtube_id is not None
    return TrackInfo(
        title=track.title,
        author=track.artist,
        length=_length(track),
        identifier=track.youtube_id,
        is_stream=track.is_stream,
        uri=f"https://music.youtube.com/watch?v={track.youtube_id}",
        source_name="youtube",
        artwork_url=track.artwork_url,
    )


def soundcloud_info(track: CatalogTrack) -> TrackInfo:
    """The track as lavaplayer's SoundCloud source returns it."""
    assert track.soundcloud_path is not None
    number = 1_000_000_000 + int(track.id.lstrip("t") or "0")
    token = f"{_digest('sc:' + track.id):032x}"
    stream_id = f"{token[:8]}-{token[8:12]}-{token[12:16]}-{token[16:20]}-{token[20:32]}"
    return TrackInfo(
        title=track.title,
        author=track.artist,
        length=track.duration_ms,
        identifier=(
            f"O:https://api-v2.soundcloud.com/media/soundcloud:tracks:{number}/{stream_id}"
            "/stream/progressive"
        ),
        is_stream=False,
        uri=f"https://soundcloud.com/{track.soundcloud_path}",
        source_name="soundcloud",
        artwork_url=f"{ART_HOST}/sc/{track.soundcloud_path.replace('/', '-')}-t500x500.jpg",
        isrc=track.isrc,
    )


def spotify_info(track: CatalogTrack, album_id: str | None) -> TrackInfo:
    """The track as LavaSrc's Spotify source returns it (with its extended fields)."""
    assert track.spotify_id is not None
    artist_id = spotify_artist_id(track.artist)
    return TrackInfo(
        title=track.title,
        author=track.artist,
        length=track.duration_ms,
        identifier=track.spotify_id,
        is_stream=False,
        uri=f"https://open.spotify.com/track/{track.spotify_id}",
        source_name="spotify",
        artwork_url=track.artwork_url,
        isrc=track.isrc,
        lavasrc=LavaSrcInfo(
            album_name=track.album,
            album_url=f"https://open.spotify.com/album/{album_id}" if album_id else None,
            artist_url=f"https://open.spotify.com/artist/{artist_id}",
            artist_artwork_url=f"{ART_HOST}/artist/{artist_id}.jpg",
            preview_url=f"https://preview.backbeat.invalid/mp3-preview/{track.spotify_id}.mp3",
            is_preview=False,
        ),
    )


def http_info(
    url: str,
    *,
    title: str = "Unknown title",
    author: str = "Unknown artist",
    length: int = STREAM_LENGTH,
    is_stream: bool = True,
    probe_info: str = "mp3",
) -> TrackInfo:
    """A direct URL as lavaplayer's HTTP source returns it (probe info after the source)."""
    return TrackInfo(
        title=title,
        author=author,
        length=length,
        identifier=url,
        is_stream=is_stream,
        uri=url,
        source_name="http",
        probe_info=probe_info,
    )


def playlist_json(
    name: str,
    tracks: list[TrackInfo],
    *,
    selected: int = -1,
    plugin_info: dict[str, object] | None = None,
) -> dict[str, object]:
    """A Lavalink ``Playlist`` object: ``{info: {name, selectedTrack}, pluginInfo, tracks}``."""
    return {
        "info": {"name": name, "selectedTrack": selected},
        "pluginInfo": plugin_info if plugin_info is not None else {},
        "tracks": [track_json(info) for info in tracks],
    }


def lavasrc_playlist_info(
    playlist: CatalogPlaylist, kind: str, url: str, total: int
) -> dict[str, object]:
    """LavaSrc's ``pluginInfo`` on albums, playlists, artists and recommendations."""
    return {
        "type": kind,
        "url": url,
        "artworkUrl": playlist.artwork_url,
        "author": playlist.author,
        "totalTracks": total,
    }
