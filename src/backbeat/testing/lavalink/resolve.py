"""Identifier resolution for ``/v4/loadtracks`` and LavaSearch, over a ``Catalog``.

Handles what the sources of a typical Lavalink node handle: ``ytsearch:``, ``ytmsearch:``,
``scsearch:``, ``spsearch:``, ``sprec:``, YouTube watch/short/playlist/Mix URLs, SoundCloud
track and set URLs, Spotify track/album/playlist/artist URLs and URIs, and direct http(s)
audio URLs.  Anything else is ``empty``; nothing here raises on hostile input.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

from backbeat.testing.lavalink.catalog_data import CatalogPlaylist, CatalogTrack
from backbeat.testing.lavalink.codec import TrackInfo, track_json
from backbeat.testing.lavalink.failures import exception_json
from backbeat.testing.lavalink.search import SearchField, SearchIndex, words
from backbeat.testing.lavalink.sources import (
    http_info,
    lavasrc_playlist_info,
    playlist_json,
    soundcloud_info,
    spotify_artist_id,
    spotify_info,
    youtube_info,
    youtube_music_info,
)

if TYPE_CHECKING:
    from backbeat.testing.lavalink.catalog import Catalog

__all__ = ["EMPTY", "MAX_IDENTIFIER_LENGTH", "is_playable_original", "load", "load_search"]

MAX_IDENTIFIER_LENGTH = 2000
"""Longer identifiers (and any with control characters) resolve to ``empty``."""

EMPTY: dict[str, object] = {"loadType": "empty", "data": None}
SEARCH_LIMITS = {"ytsearch:": 20, "ytmsearch:": 20, "scsearch:": 10, "spsearch:": 10}
_YOUTUBE_HOSTS = {"youtube.com", "www.youtube.com", "m.youtube.com", "music.youtube.com"}
_SOUNDCLOUD_HOSTS = {"soundcloud.com", "www.soundcloud.com", "m.soundcloud.com"}
_SPOTIFY_HOSTS = {"open.spotify.com", "play.spotify.com"}
_AUDIO_EXTENSIONS = {
    "mp3": "mp3",
    "flac": "flac",
    "wav": "wav",
    "ogg": "ogg",
    "opus": "ogg",
    "m4a": "mpeg",
    "mp4": "mpeg",
    "aac": "adts",
    "webm": "matroska/webm",
    "mkv": "matroska/webm",
}
_YT_FIELD = SearchField(title=lambda t: t.youtube_title, author=lambda t: t.youtube_channel)
_SONG_FIELD = SearchField(title=lambda t: t.title, author=lambda t: t.artist)


def is_playable_original(track: CatalogTrack) -> bool:
    """A regular recording: not a re-upload, not a stream, not set to fail."""
    return not track.is_reupload and not track.is_stream and track.failure is None


def _track(info: TrackInfo) -> dict[str, object]:
    return {"loadType": "track", "data": track_json(info)}


def _playlist(body: dict[str, object]) -> dict[str, object]:
    return {"loadType": "playlist", "data": body}


def _search_result(infos: list[TrackInfo]) -> dict[str, object]:
    if not infos:
        return dict(EMPTY)
    return {"loadType": "search", "data": [track_json(info) for info in infos]}


def _hostile(identifier: str) -> bool:
    return len(identifier) > MAX_IDENTIFIER_LENGTH or any(
        ord(char) < 32 or ord(char) == 127 for char in identifier
    )


def load(catalog: Catalog, identifier: str) -> dict[str, object]:
    """The ``/v4/loadtracks`` body for ``identifier``."""
    identifier = identifier.strip()
    if not identifier or _hostile(identifier):
        return dict(EMPTY)
    for prefix, limit in SEARCH_LIMITS.items():
        if identifier.startswith(prefix):
            return _search_result(search_infos(catalog, prefix, identifier[len(prefix) :], limit))
    if identifier.startswith("sprec:"):
        return _recommendations(catalog, identifier[len("sprec:") :])
    if identifier.startswith("spotify:"):
        return _spotify(catalog, identifier.split(":")[1:])
    try:
        url = urlsplit(identifier)
        host = (url.hostname or "").casefold()
    except ValueError:
        return dict(EMPTY)
    if url.scheme not in ("http", "https") or not host:
        return dict(EMPTY)
    query = parse_qs(url.query)
    segments = [part for part in url.path.split("/") if part]
    if host in _YOUTUBE_HOSTS or host == "youtu.be":
        return _youtube(catalog, host, segments, query)
    if host in _SOUNDCLOUD_HOSTS:
        return _soundcloud(catalog, segments)
    if host in _SPOTIFY_HOSTS:
        if segments and segments[0].startswith("intl-"):
            segments = segments[1:]
        return _spotify(catalog, segments)
    return _direct(catalog, identifier, url.path)


def search_infos(catalog: Catalog, prefix: str, query: str, limit: int) -> list[TrackInfo]:
    """Ranked search results of one search prefix, as that source presents them."""
    found = catalog.search_index(prefix).rank(query, limit)
    if prefix == "ytsearch:":
        return [youtube_info(t) for t in found]
    if prefix == "ytmsearch:":
        return [youtube_music_info(t) for t in found]
    if prefix == "scsearch:":
        return [soundcloud_info(t) for t in found]
    return [_spotify_track(catalog, t) for t in found]


def search_index(tracks: tuple[CatalogTrack, ...], prefix: str) -> SearchIndex:
    """The index a search prefix ranks over: the tracks that source has, as it labels them."""
    if prefix == "ytsearch:":
        return SearchIndex((t for t in tracks if t.youtube_id), _YT_FIELD)
    if prefix == "ytmsearch:":
        pool = (t for t in tracks if t.youtube_id and is_playable_original(t))
        return SearchIndex(pool, _SONG_FIELD)
    if prefix == "scsearch:":
        return SearchIndex((t for t in tracks if t.soundcloud_path), _SONG_FIELD)
    if prefix == "suggest:":
        return SearchIndex((t for t in tracks if t.youtube_id), _SONG_FIELD)
    return SearchIndex((t for t in tracks if t.spotify_id), _SONG_FIELD)


def _spotify_track(catalog: Catalog, track: CatalogTrack) -> TrackInfo:
    return spotify_info(track, catalog.spotify_album_ids.get((track.artist, track.album or "")))


# --- YouTube -------------------------------------------------------------------------------


def _youtube(
    catalog: Catalog, host: str, segments: list[str], query: dict[str, list[str]]
) -> dict[str, object]:
    video_id: str | None = None
    if host == "youtu.be":
        video_id = segments[0] if segments else None
    elif segments[:1] == ["watch"]:
        video_id = query.get("v", [None])[0]
    elif len(segments) >= 2 and segments[0] in ("shorts", "embed", "live", "v"):
        video_id = segments[1]
    list_id = query.get("list", [None])[0]
    if list_id:
        body = _youtube_list(catalog, list_id, video_id)
        if body is not None:
            return _playlist(body)
    if video_id is None:
        return dict(EMPTY)
    track = catalog.by_youtube_id.get(video_id)
    if track is None:
        return dict(EMPTY)
    if track.failure is not None:
        return {"loadType": "error", "data": exception_json(track.failure)}
    return _track(youtube_info(track))


def _youtube_list(catalog: Catalog, list_id: str, video_id: str | None) -> dict[str, object] | None:
    if list_id.startswith("RD"):
        seed = catalog.by_youtube_id.get(list_id[2:]) or catalog.by_youtube_id.get(video_id or "")
        if seed is None or seed.failure is not None:
            return None
        members = [seed, *(t for t in catalog.related(seed, 24) if t.youtube_id)]
        return _youtube_playlist(f"Mix - {seed.youtube_title}", members, video_id)
    playlist = catalog.playlist_by_key.get(("youtube", list_id.casefold()))
    if playlist is None:
        return None
    return _youtube_playlist(playlist.name, _members(catalog, playlist), video_id)


def _youtube_playlist(
    name: str, members: list[CatalogTrack], video_id: str | None
) -> dict[str, object]:
    ids = [t.youtube_id for t in members]
    selected = ids.index(video_id) if video_id in ids else -1
    return playlist_json(name, [youtube_info(t) for t in members], selected=selected)


def _members(catalog: Catalog, playlist: CatalogPlaylist) -> list[CatalogTrack]:
    return [catalog.by_id[ref] for ref in playlist.track_ids]


# --- SoundCloud ----------------------------------------------------------------------------


def _soundcloud(catalog: Catalog, segments: list[str]) -> dict[str, object]:
    if len(segments) == 2:
        track = catalog.by_soundcloud_path.get("/".join(segments).casefold())
        return _track(soundcloud_info(track)) if track else dict(EMPTY)
    if len(segments) == 3 and segments[1] == "sets":
        playlist = catalog.playlist_by_key.get(("soundcloud_set", "/".join(segments).casefold()))
        if playlist is not None:
            infos = [soundcloud_info(t) for t in _members(catalog, playlist)]
            return _playlist(playlist_json(playlist.name, infos))
    return dict(EMPTY)


# --- Spotify (LavaSrc) ---------------------------------------------------------------------


def _spotify(catalog: Catalog, segments: list[str]) -> dict[str, object]:
    if len(segments) < 2:
        return dict(EMPTY)
    kind, key = segments[0], segments[1]
    if kind == "track":
        track = catalog.by_spotify_id.get(key)
        return _track(_spotify_track(catalog, track)) if track else dict(EMPTY)
    if kind in ("album", "playlist"):
        playlist = catalog.playlist_by_key.get((f"spotify_{kind}", key.casefold()))
        if playlist is None:
            return dict(EMPTY)
        infos = [_spotify_track(catalog, t) for t in _members(catalog, playlist)]
        url = f"https://open.spotify.com/{kind}/{playlist.key}"
        info = lavasrc_playlist_info(playlist, kind, url, len(infos))
        return _playlist(playlist_json(playlist.name, infos, plugin_info=info))
    if kind == "artist":
        return _spotify_artist(catalog, key)
    return dict(EMPTY)


def _spotify_artist(catalog: Catalog, artist_id: str) -> dict[str, object]:
    tracks = [
        t for t in catalog.tracks if t.spotify_id and spotify_artist_id(t.artist) == artist_id
    ]
    if not tracks:
        return dict(EMPTY)
    artist = tracks[0].artist
    infos = [_spotify_track(catalog, t) for t in tracks[:10]]
    plugin_info: dict[str, object] = {
        "type": "artist",
        "url": f"https://open.spotify.com/artist/{artist_id}",
        "artworkUrl": infos[0].lavasrc.artist_artwork_url if infos[0].lavasrc else None,
        "author": artist,
        "totalTracks": len(infos),
    }
    return _playlist(playlist_json(f"{artist}'s Top Tracks", infos, plugin_info=plugin_info))


def _recommendations(catalog: Catalog, argument: str) -> dict[str, object]:
    seeds: list[str] = []
    for part in argument.split("&"):
        name, _, value = part.partition("=")
        if not value:
            seeds.extend(name.split(","))
        elif name == "seed_tracks":
            seeds.extend(value.split(","))
    picked: list[CatalogTrack] = []
    for seed in (catalog.by_spotify_id.get(s) for s in seeds):
        if seed is not None:
            picked.extend(t for t in catalog.related(seed, 25) if t.spotify_id and t not in picked)
    if not picked:
        return dict(EMPTY)
    infos = [_spotify_track(catalog, t) for t in picked[:25]]
    plugin_info: dict[str, object] = {
        "type": "recommendations",
        "url": None,
        "artworkUrl": None,
        "author": None,
        "totalTracks": len(infos),
    }
    return _playlist(playlist_json("Spotify Recommendations:", infos, plugin_info=plugin_info))


# --- direct URLs (lavaplayer's HTTP source) ------------------------------------------------


def _direct(catalog: Catalog, url: str, path: str) -> dict[str, object]:
    stream = catalog.by_stream_url.get(url)
    if stream is not None:
        return _track(
            http_info(
                url,
                title=stream.title,
                author=stream.artist,
                probe_info=stream.probe_info or "mp3",
            )
        )
    extension = path.rsplit(".", 1)[-1].casefold() if "." in path.rsplit("/", 1)[-1] else ""
    probe = _AUDIO_EXTENSIONS.get(extension)
    if probe is None:
        return {"loadType": "error", "data": exception_json("unknown_format")}
    seconds = 60 + int.from_bytes(hashlib.sha256(url.encode()).digest()[:4], "big") % 540
    return _track(http_info(url, length=seconds * 1000, is_stream=False, probe_info=probe))


# --- LavaSearch ----------------------------------------------------------------------------

ALL_SEARCH_TYPES = frozenset({"track", "album", "artist", "playlist", "text"})


def load_search(catalog: Catalog, query: str, types: set[str]) -> dict[str, object] | None:
    """LavaSearch's ``/v4/loadsearch`` body, or ``None`` (204) when nothing matched."""
    query = query.strip()
    prefix = next((p for p in SEARCH_LIMITS if query.startswith(p)), None)
    if prefix is None or _hostile(query):
        return None
    text = query[len(prefix) :]
    wanted = (set(types) & ALL_SEARCH_TYPES) or set(ALL_SEARCH_TYPES)
    tracks = search_infos(catalog, prefix, text, SEARCH_LIMITS[prefix]) if "track" in wanted else []
    albums: list[dict[str, object]] = []
    artists: list[dict[str, object]] = []
    playlists: list[dict[str, object]] = []
    texts: list[dict[str, object]] = []
    if prefix == "spsearch:":
        if "album" in wanted:
            albums = _matching_playlists(catalog, "spotify_album", "album", text)
        if "playlist" in wanted:
            playlists = _matching_playlists(catalog, "spotify_playlist", "playlist", text)
        if "artist" in wanted:
            artists = _matching_artists(catalog, text)
    elif prefix in ("ytsearch:", "ytmsearch:"):
        if "playlist" in wanted:
            playlists = _matching_playlists(catalog, "youtube", None, text)
        if "text" in wanted:
            texts = _suggestions(catalog, text)
    if not (tracks or albums or artists or playlists or texts):
        return None
    return {
        "tracks": [track_json(info) for info in tracks],
        "albums": albums,
        "artists": artists,
        "playlists": playlists,
        "texts": texts,
        "plugin": {},
    }


def _matching_playlists(
    catalog: Catalog, kind: str, lavasrc_type: str | None, text: str
) -> list[dict[str, object]]:
    tokens = set(words(text))
    found = []
    for playlist in catalog.playlists:
        if playlist.kind != kind or not tokens & set(words(f"{playlist.name} {playlist.author}")):
            continue
        if lavasrc_type is None:
            plugin_info: dict[str, object] = {}
        else:
            url = f"https://open.spotify.com/{lavasrc_type}/{playlist.key}"
            plugin_info = lavasrc_playlist_info(
                playlist, lavasrc_type, url, len(playlist.track_ids)
            )
        found.append(playlist_json(playlist.name, [], plugin_info=plugin_info))
    return found[:10]


def _matching_artists(catalog: Catalog, text: str) -> list[dict[str, object]]:
    tokens = set(words(text))
    found: dict[str, dict[str, object]] = {}
    for track in catalog.tracks:
        if track.spotify_id and track.artist not in found and tokens & set(words(track.artist)):
            artist_id = spotify_artist_id(track.artist)
            count = sum(1 for t in catalog.tracks if t.spotify_id and t.artist == track.artist)
            found[track.artist] = playlist_json(
                f"{track.artist}'s Top Tracks",
                [],
                plugin_info={
                    "type": "artist",
                    "url": f"https://open.spotify.com/artist/{artist_id}",
                    "artworkUrl": f"https://img.backbeat.invalid/artist/{artist_id}.jpg",
                    "author": track.artist,
                    "totalTracks": min(count, 10),
                },
            )
    return list(found.values())[:10]


def _suggestions(catalog: Catalog, text: str) -> list[dict[str, object]]:
    seen: list[str] = []
    for track in catalog.search_index("suggest:").rank(text, 20):
        suggestion = f"{track.artist} {track.title}".casefold()
        if suggestion not in seen:
            seen.append(suggestion)
    return [{"text": suggestion, "plugin": {}} for suggestion in seen[:5]]
