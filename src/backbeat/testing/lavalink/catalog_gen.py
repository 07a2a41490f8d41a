"""Deterministic generator of the shipped fictional catalog.

``python -m backbeat.testing.lavalink.catalog_gen [OUT]`` rewrites ``data/catalog.json``.
Every name is assembled from invented word lists with a seeded RNG, so the same seed always
gives the same file; no real song, artist or album is described.
"""

from __future__ import annotations

import json
import random
import re
import sys
from dataclasses import dataclass, replace
from pathlib import Path

from backbeat.testing.lavalink.catalog_data import (
    CatalogData,
    CatalogPlaylist,
    CatalogTrack,
    catalog_document,
)

__all__ = ["DEFAULT_PATH", "SEED", "generate", "main", "render"]

SEED = 20260505
DEFAULT_PATH = Path(__file__).with_name("data") / "catalog.json"
ART = "https://img.backbeat.invalid"
_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
_YT_CHARS = _ALNUM + "-_"


@dataclass(frozen=True)
class Genre:
    """How one genre names its uploads."""

    key: str
    tags: tuple[str, ...]
    upload_templates: tuple[str, ...]
    seconds: tuple[int, int]
    lyrics: str  # "sung" or "instrumental"


GENRES = (
    Genre(
        "lofi",
        ("lofi", "lofi hip hop", "chillhop", "study beats", "chill"),
        (
            "{title} \u2615 lofi hip hop beat to study to",
            "{artist} - {title} [lofi / chill beats]",
            "{title} \U0001f319 chill lofi beats to relax",
        ),
        (110, 210),
        "instrumental",
    ),
    Genre(
        "synthwave",
        ("synthwave", "retrowave", "outrun", "80s"),
        ("{artist} - {title} (Synthwave) | 80s Retro", "{artist} - {title} [Retrowave]"),
        (200, 330),
        "instrumental",
    ),
    Genre(
        "drum-and-bass",
        ("drum and bass", "dnb", "liquid dnb", "neurofunk"),
        ("{artist} - {title} [Drum & Bass]", "{artist} - {title} | Liquid Drum & Bass Mix"),
        (240, 380),
        "sung",
    ),
    Genre(
        "house",
        ("house", "deep house", "tech house", "dance"),
        ("{artist} - {title} (Extended Mix)", "{artist} - {title} [House]"),
        (300, 420),
        "sung",
    ),
    Genre(
        "techno",
        ("techno", "warehouse", "minimal techno", "rave"),
        ("{artist} - {title} (Original Mix)", "{artist} - {title} [Techno]"),
        (330, 480),
        "instrumental",
    ),
    Genre(
        "hip-hop",
        ("hip hop", "rap", "boom bap", "trap"),
        ("{artist} - {title} (Official Music Video)", "{artist} - {title} (Official Audio)"),
        (150, 250),
        "sung",
    ),
    Genre(
        "rock",
        ("rock", "alternative rock", "indie rock", "guitar"),
        ("{artist} - {title} [Official Video]", "{artist} - {title} (Live Session)"),
        (180, 300),
        "sung",
    ),
    Genre(
        "metal",
        ("metal", "metalcore", "heavy metal", "doom"),
        ("{artist} - {title} (Official Lyric Video)", "{artist} - {title} [Official Video]"),
        (210, 420),
        "sung",
    ),
    Genre(
        "pop",
        ("pop", "dance pop", "synthpop", "chart"),
        ("{artist} - {title} (Official Audio)", "{artist} - {title} (Lyrics)"),
        (150, 230),
        "sung",
    ),
    Genre(
        "jazz",
        ("jazz", "smooth jazz", "bebop", "saxophone"),
        ("{artist} - {title} | Smooth Jazz Session", "{artist} Quartet - {title} (Live)"),
        (200, 520),
        "instrumental",
    ),
    Genre(
        "classical",
        ("classical", "piano", "orchestra", "string quartet"),
        ("{artist}: {title} (Piano Solo)", "{artist} - {title} | Classical Music"),
        (180, 720),
        "instrumental",
    ),
    Genre(
        "ambient",
        ("ambient", "drone", "meditation", "sleep music"),
        ("{title} - 1 Hour Ambient Soundscape", "{artist} - {title} (Ambient)"),
        (900, 3600),
        "instrumental",
    ),
    Genre(
        "country",
        ("country", "americana", "folk", "acoustic"),
        ("{artist} - {title} (Official Music Video)", "{artist} - {title} (Acoustic)"),
        (170, 260),
        "sung",
    ),
    Genre(
        "reggae",
        ("reggae", "dub", "roots reggae", "dancehall"),
        ("{artist} - {title} [Reggae Riddim]", "{artist} - {title} (Dub Version)"),
        (190, 300),
        "sung",
    ),
)

_FIRST = (
    "Velvet",
    "Quasar",
    "Hollow",
    "Amber",
    "Cobalt",
    "Lantern",
    "Marrow",
    "Copper",
    "Tidal",
    "Paper",
    "Glass",
    "Ivory",
    "Saffron",
    "Static",
    "Juniper",
    "Orbit",
    "Quiet",
    "Rusted",
    "Cinder",
    "Pale",
    "Nimbus",
    "Harbor",
    "Feral",
    "Lunar",
    "Moss",
    "Opal",
    "Echo",
    "Brass",
    "Midnight",
    "Willow",
    "Sable",
    "Prism",
    "Drift",
    "Ember",
    "Granite",
    "Coral",
    "Fable",
    "Hazel",
    "Indigo",
    "Kite",
)
_SECOND = (
    "Wolves",
    "Parade",
    "Engines",
    "Choir",
    "Cartographers",
    "Foxes",
    "Signal",
    "Gardens",
    "Lanterns",
    "Tides",
    "Machines",
    "Satellites",
    "Avenue",
    "Mirrors",
    "Rivers",
    "Orchard",
    "Collective",
    "Ferries",
    "Pilots",
    "Arcade",
    "Kingdom",
    "Sparrows",
    "Dynamo",
    "Harvest",
    "Relay",
    "Atlas",
    "Vessel",
    "Meadow",
    "Static",
    "Comets",
)
_SOLO_PREFIX = ("DJ", "MC", "Lil", "Sister", "Captain", "Young", "Professor", "Saint")
_SOLO_NAME = (
    "Quillon",
    "Marrowby",
    "Tessaly",
    "Orlo",
    "Vantelle",
    "Brisko",
    "Calloway",
    "Neviah",
    "Dorran",
    "Juno",
    "Pell",
    "Ravik",
    "Soline",
    "Tamsin",
    "Ulric",
    "Wrenna",
    "Yarrow",
    "Zephyrin",
    "Kestrel",
    "Odalys",
)
_T_ADJ = (
    "Neon",
    "Paper",
    "Silent",
    "Golden",
    "Broken",
    "Endless",
    "Electric",
    "Crimson",
    "Hidden",
    "Northern",
    "Velvet",
    "Falling",
    "Hollow",
    "Distant",
    "Burning",
    "Frozen",
    "Gentle",
    "Wild",
    "Lonely",
    "Restless",
    "Painted",
    "Sunken",
    "Stray",
    "Violet",
)
_T_NOUN = (
    "Ferry",
    "Satellites",
    "Tidepool",
    "Harbor",
    "Lanterns",
    "Avenue",
    "Summer",
    "Static",
    "Orchard",
    "Mirrors",
    "Skyline",
    "Pulse",
    "Horizon",
    "Garden",
    "Highway",
    "Letters",
    "Season",
    "Embers",
    "Signals",
    "Window",
    "Meridian",
    "Carousel",
    "Lighthouse",
    "Voltage",
    "Rooftops",
    "Compass",
    "Daydream",
    "Winter",
    "Thunder",
    "Postcards",
)
_CLASSICAL_FORMS = ("Nocturne", "Etude", "Sonata", "Prelude", "Waltz", "Serenade", "Fugue")
_KEYS = ("C major", "E minor", "A-flat major", "D minor", "F-sharp minor", "B-flat major")
_LYRIC_HOSTS = ("LyricVault", "Lyrics Lounge", "SubtitleSongs")
_FAILURES = ("unavailable", "region_blocked", "age_restricted", "bot_check", "sign_in", "private")
_TRACKS_PER_GENRE = 24
_ARTISTS_PER_GENRE = 5


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


class _Names:
    """Draws unique invented names and identifiers from one seeded RNG."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()

    def unique(self, make: object) -> str:
        assert callable(make)
        for _ in range(1000):
            value = str(make())
            if value not in self.used:
                self.used.add(value)
                return value
        raise RuntimeError("name space exhausted")

    def artist(self, genre: str) -> str:
        rng = self.rng
        if genre in ("hip-hop", "house", "techno", "reggae") and rng.random() < 0.7:
            return self.unique(lambda: f"{rng.choice(_SOLO_PREFIX)} {rng.choice(_SOLO_NAME)}")
        if genre == "classical":
            return self.unique(lambda: f"{rng.choice(_SOLO_NAME)} {rng.choice(_SOLO_NAME)}sky")
        return self.unique(lambda: f"{rng.choice(_FIRST)} {rng.choice(_SECOND)}")

    def title(self, genre: str) -> str:
        rng = self.rng
        if genre == "classical":
            return self.unique(
                lambda: (
                    f"{rng.choice(_CLASSICAL_FORMS)} No. {rng.randint(1, 24)} "
                    f"in {rng.choice(_KEYS)}, Op. {rng.randint(2, 90)}"
                )
            )
        return self.unique(lambda: f"{rng.choice(_T_ADJ)} {rng.choice(_T_NOUN)}")

    def token(self, alphabet: str, size: int, prefix: str = "") -> str:
        rng = self.rng
        return self.unique(lambda: prefix + "".join(rng.choice(alphabet) for _ in range(size)))


def _song(names: _Names, genre: Genre, artist: str, album: str, number: int) -> CatalogTrack:
    rng = names.rng
    title = names.title(genre.key)
    template = rng.choice(genre.upload_templates)
    channel = f"{artist} - Topic" if rng.random() < 0.25 else artist
    tags = (*rng.sample(genre.tags, 3), _slug(artist).replace("-", ""))
    if genre.lyrics == "sung":
        lyrics = rng.choices(("synced", "plain", None), weights=(5, 3, 2))[0]
    else:
        lyrics = None
    youtube_id = names.token(_YT_CHARS, 11)
    return CatalogTrack(
        id=f"t{number:04d}",
        title=title,
        artist=artist,
        album=album,
        genres=(genre.key,),
        tags=tags,
        duration_ms=rng.randint(*genre.seconds) * 1000 + rng.choice((0, 0, 250, 500)),
        isrc=f"ZZ{names.token('ABCDEFGHJKLMNPQRSTUVWXYZ', 3)}{rng.randint(18, 25)}"
        f"{rng.randint(0, 99999):05d}",
        artwork_url=f"{ART}/cover/{_slug(artist)}/{_slug(album)}.jpg",
        related=(),
        youtube_id=youtube_id,
        youtube_title=template.format(title=title, artist=artist),
        youtube_channel=channel,
        soundcloud_path=f"{_slug(artist)}/{_slug(title)}" if rng.random() < 0.7 else None,
        spotify_id=names.token(_ALNUM, 22) if rng.random() < 0.85 else None,
        song_id=f"t{number:04d}",
        lyrics=lyrics,
    )


def _reuploads(names: _Names, original: CatalogTrack, start: int) -> list[CatalogTrack]:
    rng = names.rng
    variants = (
        (f"{original.title} (Lyrics)", rng.choice(_LYRIC_HOSTS), 1.0),
        (f"{original.artist} - {original.title} (slowed + reverb)", "reverb dreams", 1.22),
        (f"{original.artist.upper()} \u2013 {original.title.upper()} [Audio] HD", "tunes4all", 1.0),
    )
    copies = []
    for offset, (title, channel, stretch) in enumerate(variants):
        copies.append(
            replace(
                original,
                id=f"t{start + offset:04d}",
                duration_ms=int(original.duration_ms * stretch),
                youtube_id=names.token(_YT_CHARS, 11),
                youtube_title=title,
                youtube_channel=channel,
                soundcloud_path=None,
                spotify_id=None,
                song_id=original.id,
                isrc=None,
            )
        )
    return copies


def _with_related(tracks: list[CatalogTrack], rng: random.Random) -> list[CatalogTrack]:
    originals = [t for t in tracks if not t.is_reupload and t.failure is None and not t.is_stream]
    by_song = {t.id: t for t in originals}
    result = []
    for track in tracks:
        base = by_song.get(track.song_id)
        if base is None:
            result.append(track)
            continue
        same_artist = [t.id for t in originals if t.artist == base.artist and t.id != base.id]
        same_genre = [
            t.id
            for t in originals
            if t.genres == base.genres and t.artist != base.artist and t.id != base.id
        ]
        related = same_artist[:4] + rng.sample(same_genre, 8 - min(4, len(same_artist)))
        result.append(replace(track, related=tuple(related)))
    return result


def _streams(names: _Names, start: int) -> list[CatalogTrack]:
    live = (
        ("Harbor Lofi Radio", "lofi hip hop radio \U0001f4da beats to relax/study to", "lofi"),
        ("Neon Drive FM", "synthwave radio \U0001f30c 24/7 retro beats", "synthwave"),
        ("Deep Current", "Drum & Bass 24/7 LIVE \u2013 liquid dnb stream", "drum-and-bass"),
    )
    direct = (
        ("Backbeat Jazz FM", "https://radio.backbeat.invalid/jazz.mp3", "mp3", "jazz"),
        ("Backbeat Ambient", "https://radio.backbeat.invalid/ambient.ogg", "ogg", "ambient"),
        ("Backbeat Rock Nation", "https://stream.backbeat.invalid/rock.aac", "adts", "rock"),
    )
    streams = []
    for offset, (channel, title, genre) in enumerate(live):
        streams.append(
            CatalogTrack(
                id=f"t{start + offset:04d}",
                title=title,
                artist=channel,
                album=None,
                genres=(genre,),
                tags=(genre, "live", "radio", "24/7"),
                duration_ms=0,
                isrc=None,
                artwork_url=f"{ART}/live/{_slug(channel)}.jpg",
                related=(),
                youtube_id=names.token(_YT_CHARS, 11),
                youtube_title=title,
                youtube_channel=channel,
                soundcloud_path=None,
                spotify_id=None,
                song_id=f"t{start + offset:04d}",
                is_stream=True,
            )
        )
    for offset, (name, url, probe, genre) in enumerate(direct, start=len(live)):
        streams.append(
            CatalogTrack(
                id=f"t{start + offset:04d}",
                title=name,
                artist="Backbeat Radio",
                album=None,
                genres=(genre,),
                tags=(genre, "radio", "live"),
                duration_ms=0,
                isrc=None,
                artwork_url=None,
                related=(),
                youtube_id=None,
                youtube_title=name,
                youtube_channel="Backbeat Radio",
                soundcloud_path=None,
                spotify_id=None,
                song_id=f"t{start + offset:04d}",
                is_stream=True,
                stream_url=url,
                probe_info=probe,
            )
        )
    return streams


def _failing(names: _Names, start: int) -> list[CatalogTrack]:
    rng = names.rng
    failing = []
    for offset, failure in enumerate(_FAILURES):
        artist = names.artist("rock")
        title = names.title("rock")
        failing.append(
            CatalogTrack(
                id=f"t{start + offset:04d}",
                title=title,
                artist=artist,
                album=None,
                genres=("rock",),
                tags=("restricted",),
                duration_ms=rng.randint(150, 300) * 1000,
                isrc=None,
                artwork_url=f"{ART}/cover/{_slug(artist)}/single.jpg",
                related=(),
                youtube_id=names.token(_YT_CHARS, 11),
                youtube_title=f"{artist} - {title} (Restricted Upload)",
                youtube_channel=artist,
                soundcloud_path=None,
                spotify_id=None,
                song_id=f"t{start + offset:04d}",
                failure=failure,
            )
        )
    return failing


def _playlists(names: _Names, tracks: list[CatalogTrack]) -> list[CatalogPlaylist]:
    rng = names.rng
    originals = [t for t in tracks if not t.is_reupload and t.failure is None and not t.is_stream]
    playlists = []
    for genre in GENRES:
        members = [t for t in originals if t.genres == (genre.key,)]
        label = genre.tags[0].title()
        picked = tuple(t.id for t in rng.sample(members, 18))
        playlists.append(
            CatalogPlaylist(
                kind="youtube",
                key=names.token(_YT_CHARS, 32, prefix="PL"),
                name=f"Best of {label} 2025",
                author=f"{label} Vault",
                artwork_url=f"{ART}/playlist/{genre.key}.jpg",
                track_ids=picked,
            )
        )
        playlists.append(
            CatalogPlaylist(
                kind="spotify_playlist",
                key=names.token(_ALNUM, 22),
                name=f"{label} Essentials",
                author="Backbeat Editors",
                artwork_url=f"{ART}/playlist/{genre.key}-essentials.jpg",
                track_ids=tuple(t.id for t in members if t.spotify_id)[:20],
            )
        )
    albums: dict[tuple[str, str], list[CatalogTrack]] = {}
    for track in originals:
        albums.setdefault((track.artist, track.album or ""), []).append(track)
    for (artist, album), members in albums.items():
        art = members[0].artwork_url
        playlists.append(
            CatalogPlaylist(
                kind="spotify_album",
                key=names.token(_ALNUM, 22),
                name=album,
                author=artist,
                artwork_url=art,
                track_ids=tuple(t.id for t in members if t.spotify_id),
            )
        )
        playlists.append(
            CatalogPlaylist(
                kind="soundcloud_set",
                key=f"{_slug(artist)}/sets/{_slug(album)}",
                name=album,
                author=artist,
                artwork_url=art,
                track_ids=tuple(t.id for t in members if t.soundcloud_path),
            )
        )
    return [p for p in playlists if p.track_ids]


def generate(seed: int = SEED) -> CatalogData:
    """Build the whole catalog from ``seed``."""
    rng = random.Random(seed)
    names = _Names(rng)
    tracks: list[CatalogTrack] = []
    for genre in GENRES:
        artists = [names.artist(genre.key) for _ in range(_ARTISTS_PER_GENRE)]
        albums = {a: [names.title(genre.key) for _ in range(2)] for a in artists}
        for index in range(_TRACKS_PER_GENRE):
            artist = artists[index % _ARTISTS_PER_GENRE]
            album = albums[artist][index // (_ARTISTS_PER_GENRE * 3)]
            tracks.append(_song(names, genre, artist, album, len(tracks) + 1))
    for original_index in (0, 2 * _TRACKS_PER_GENRE + 3, 8 * _TRACKS_PER_GENRE + 1):
        tracks.extend(_reuploads(names, tracks[original_index], len(tracks) + 1))
    tracks.extend(_streams(names, len(tracks) + 1))
    tracks.extend(_failing(names, len(tracks) + 1))
    tracks = _with_related(tracks, rng)
    return CatalogData(tracks=tuple(tracks), playlists=tuple(_playlists(names, tracks)))


def main(argv: list[str] | None = None) -> int:
    """Write the generated catalog (default: the packaged ``data/catalog.json``)."""
    args = sys.argv[1:] if argv is None else argv
    out = Path(args[0]) if args else DEFAULT_PATH
    data = generate()
    out.write_text(render(data), encoding="utf-8")
    print(f"wrote {len(data.tracks)} tracks and {len(data.playlists)} playlists to {out}")
    return 0


def render(data: CatalogData) -> str:
    """The catalog file text: one track or playlist per line, so diffs stay readable."""
    document = catalog_document(data)
    lines = [f'{{"format": {document["format"]},', '"tracks": [']
    for key in ("tracks", "playlists"):
        items = document[key]
        assert isinstance(items, list)
        body = ",\n".join(json.dumps(item, ensure_ascii=False) for item in items)
        lines.append(body)
        lines.append("]," if key == "tracks" else "]}")
        if key == "tracks":
            lines.append('"playlists": [')
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
