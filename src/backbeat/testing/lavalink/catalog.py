"""The emulator's music catalog: fictional tracks reachable the ways users reach music.

``Catalog.default()`` loads the shipped ``data/catalog.json`` once; ``Catalog.from_file``
reads another file of the same format (``--catalog FILE``).  ``load`` answers
``/v4/loadtracks``, ``load_search`` LavaSearch's ``/v4/loadsearch`` and ``lyrics_for``
LavaLyrics; every track handed out is encoded with ``codec.encode_track``.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path

from backbeat.testing.lavalink import lyrics, resolve
from backbeat.testing.lavalink.catalog_data import (
    CatalogData,
    CatalogPlaylist,
    CatalogTrack,
    parse_catalog,
    read_catalog,
)
from backbeat.testing.lavalink.codec import TrackInfo
from backbeat.testing.lavalink.search import SearchIndex

__all__ = ["Catalog", "CatalogPlaylist", "CatalogTrack"]


class Catalog:
    """Indexed catalog data plus the Lavalink routes that read it."""

    def __init__(self, data: CatalogData) -> None:
        self.tracks = data.tracks
        self.playlists = data.playlists
        self.by_id = {track.id: track for track in data.tracks}
        self.by_youtube_id = {t.youtube_id: t for t in data.tracks if t.youtube_id}
        self.by_spotify_id = {t.spotify_id: t for t in data.tracks if t.spotify_id}
        self.by_soundcloud_path = {
            t.soundcloud_path.casefold(): t for t in data.tracks if t.soundcloud_path
        }
        self.by_stream_url = {t.stream_url: t for t in data.tracks if t.stream_url}
        self.by_isrc = {t.isrc: t for t in data.tracks if t.isrc and not t.is_reupload}
        self.playlist_by_key = {(p.kind, p.key.casefold()): p for p in data.playlists}
        self.spotify_album_ids = {
            (p.author, p.name): p.key for p in data.playlists if p.kind == "spotify_album"
        }
        self._search_indexes: dict[str, SearchIndex] = {}

    @classmethod
    def default(cls) -> Catalog:
        """The shipped catalog (parsed once per process)."""
        return _default_catalog()

    @classmethod
    def from_file(cls, path: Path) -> Catalog:
        """A catalog read from ``path``; raises ``ValueError`` if the file is not one."""
        return cls(read_catalog(path))

    def __len__(self) -> int:
        return len(self.tracks)

    def load(self, identifier: str) -> dict[str, object]:
        """The JSON body of ``GET /v4/loadtracks?identifier=…``: ``{loadType, data}``."""
        return resolve.load(self, identifier)

    def load_search(self, query: str, types: set[str]) -> dict[str, object] | None:
        """LavaSearch's ``/v4/loadsearch`` body, or ``None`` when nothing matched (204)."""
        return resolve.load_search(self, query, types)

    def search_index(self, prefix: str) -> SearchIndex:
        """The (cached) search index behind a search prefix such as ``ytsearch:``."""
        index = self._search_indexes.get(prefix)
        if index is None:
            index = self._search_indexes[prefix] = resolve.search_index(self.tracks, prefix)
        return index

    def lyrics_for(self, info: TrackInfo) -> dict[str, object] | None:
        """LavaLyrics' lyrics object for the track, or ``None`` when it has none (204)."""
        track = self.lookup(info)
        if track is None:
            return None
        return lyrics.lyrics_object(track, info.source_name)

    def lookup(self, info: TrackInfo) -> CatalogTrack | None:
        """The catalog entry a track handed out by ``load`` came from."""
        if info.source_name == "youtube":
            return self.by_youtube_id.get(info.identifier)
        if info.source_name == "spotify":
            return self.by_spotify_id.get(info.identifier)
        if info.source_name == "soundcloud" and info.uri:
            path = info.uri.removeprefix("https://soundcloud.com/").casefold()
            return self.by_soundcloud_path.get(path)
        if info.source_name == "http":
            return self.by_stream_url.get(info.identifier)
        return self.by_isrc.get(info.isrc) if info.isrc else None

    def related(self, track: CatalogTrack, limit: int = 25) -> list[CatalogTrack]:
        """Tracks to follow ``track``: its listed relations, more of its genre, then others."""
        song = self.by_id.get(track.song_id, track)
        picked = [self.by_id[ref] for ref in song.related if ref in self.by_id]
        seen = {song.id, *(t.id for t in picked)}
        for same_genre in (True, False):
            for candidate in self.tracks:
                if len(picked) >= limit:
                    return picked
                if (
                    candidate.id not in seen
                    and (candidate.genres == song.genres) == same_genre
                    and resolve.is_playable_original(candidate)
                ):
                    picked.append(candidate)
                    seen.add(candidate.id)
        return picked[:limit]


@cache
def _default_catalog() -> Catalog:
    text = (
        resources.files("backbeat.testing.lavalink")
        .joinpath("data/catalog.json")
        .read_text(encoding="utf-8")
    )
    return Catalog(parse_catalog(json.loads(text)))
