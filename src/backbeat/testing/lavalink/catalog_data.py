"""The catalog's data model and its JSON file format.

The catalog is plain data (``data/catalog.json``, written by ``catalog_gen``): fictional
tracks with the identifiers each source knows them by, and the playlists/albums built from
them.  This module only describes and parses that data; resolution lives in ``resolve``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

__all__ = ["CatalogData", "CatalogPlaylist", "CatalogTrack", "parse_catalog", "read_catalog"]

FORMAT_VERSION = 1


@dataclass(frozen=True)
class CatalogTrack:
    """One recording as the sources see it.

    ``title``/``artist`` are the clean song names (Spotify, SoundCloud, YouTube Music);
    ``youtube_title``/``youtube_channel`` are how the YouTube upload is labelled, with the genre
    cues real uploads carry.  Re-uploads of a song share ``song_id`` (the original's ``id``).
    ``failure`` names a load failure (see ``failures``) the YouTube source reports for it;
    ``lyrics`` is ``"synced"``, ``"plain"`` or ``None``.  Live streams have ``is_stream`` and
    either a YouTube id or a direct ``stream_url`` with its ``probe_info``.
    """

    id: str
    title: str
    artist: str
    album: str | None
    genres: tuple[str, ...]
    tags: tuple[str, ...]
    duration_ms: int
    isrc: str | None
    artwork_url: str | None
    related: tuple[str, ...]
    youtube_id: str | None
    youtube_title: str
    youtube_channel: str
    soundcloud_path: str | None
    spotify_id: str | None
    song_id: str
    lyrics: str | None = None
    failure: str | None = None
    is_stream: bool = False
    stream_url: str | None = None
    probe_info: str | None = None

    @property
    def is_reupload(self) -> bool:
        """A copy of another track's song uploaded under a different title or channel."""
        return self.song_id != self.id


@dataclass(frozen=True)
class CatalogPlaylist:
    """A YouTube playlist, a Spotify album/playlist or a SoundCloud set.

    ``kind`` is ``youtube``, ``spotify_album``, ``spotify_playlist`` or ``soundcloud_set``;
    ``key`` is the id the source uses (``PL…``, a Spotify id, ``artist/sets/slug``).
    """

    kind: str
    key: str
    name: str
    author: str
    artwork_url: str | None
    track_ids: tuple[str, ...]


@dataclass(frozen=True)
class CatalogData:
    """Everything in a catalog file."""

    tracks: tuple[CatalogTrack, ...]
    playlists: tuple[CatalogPlaylist, ...]


def _build(cls: type[Any], raw: dict[str, Any], where: str) -> Any:
    names = {f.name for f in fields(cls)}
    unknown = set(raw) - names
    if unknown:
        raise ValueError(f"{where}: unknown keys {sorted(unknown)}")
    values = {key: tuple(value) if isinstance(value, list) else value for key, value in raw.items()}
    try:
        return cls(**values)
    except TypeError as error:
        raise ValueError(f"{where}: {error}") from error


def parse_catalog(document: object) -> CatalogData:
    """Validate and convert a decoded catalog JSON document."""
    if not isinstance(document, dict) or document.get("format") != FORMAT_VERSION:
        raise ValueError(f"not a catalog document (expected format {FORMAT_VERSION})")
    raw_tracks = document.get("tracks")
    raw_playlists = document.get("playlists", [])
    if not isinstance(raw_tracks, list) or not isinstance(raw_playlists, list):
        raise ValueError("catalog 'tracks' and 'playlists' must be lists")
    tracks = tuple(
        _build(CatalogTrack, raw, f"tracks[{index}]") for index, raw in enumerate(raw_tracks)
    )
    playlists = tuple(
        _build(CatalogPlaylist, raw, f"playlists[{index}]")
        for index, raw in enumerate(raw_playlists)
    )
    ids = {track.id for track in tracks}
    if len(ids) != len(tracks):
        raise ValueError("catalog track ids are not unique")
    for track in tracks:
        missing = [ref for ref in (*track.related, track.song_id) if ref not in ids]
        if missing:
            raise ValueError(f"track {track.id} refers to unknown ids {missing}")
    for playlist in playlists:
        if any(ref not in ids for ref in playlist.track_ids):
            raise ValueError(f"playlist {playlist.key} refers to unknown track ids")
    return CatalogData(tracks=tracks, playlists=playlists)


def read_catalog(path: Path) -> CatalogData:
    """Read a catalog JSON file (``--catalog FILE``)."""
    with path.open(encoding="utf-8") as handle:
        return parse_catalog(json.load(handle))


def catalog_document(data: CatalogData) -> dict[str, object]:
    """The JSON document for ``data`` (inverse of ``parse_catalog``)."""

    def plain(item: object) -> dict[str, object]:
        return {
            f.name: list(value) if isinstance(value, tuple) else value
            for f in fields(item)  # type: ignore[arg-type]
            for value in [getattr(item, f.name)]
        }

    return {
        "format": FORMAT_VERSION,
        "tracks": [plain(track) for track in data.tracks],
        "playlists": [plain(playlist) for playlist in data.playlists],
    }
