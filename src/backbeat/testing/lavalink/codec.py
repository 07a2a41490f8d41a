"""Lavaplayer's binary track encoding, byte for byte.

Lavalink hands clients each track as a base64 string written by lavaplayer's
``DefaultAudioPlayerManager.encodeTrack``: a message header ``(flags << 30) | size``
(flag 1 = versioned), a version byte, the track info written with Java ``DataOutput``
(``writeUTF`` is a u16 byte length followed by *modified* UTF-8), the source manager's own
bytes and the start position.  The emulator must produce exactly what Lavalink would and read
what real Lavalink nodes produced, so this module follows that layout precisely.
"""

from __future__ import annotations

import base64
import binascii
import struct
from dataclasses import dataclass

__all__ = [
    "LAVASRC_SOURCES",
    "PROBE_INFO_SOURCES",
    "STREAM_LENGTH",
    "LavaSrcInfo",
    "TrackDecodeError",
    "TrackInfo",
    "decode_track",
    "encode_track",
    "track_json",
]

STREAM_LENGTH = 9223372036854775807
"""Length lavaplayer gives streams (``Long.MAX_VALUE``, its ``DURATION_MS_UNKNOWN``)."""

PROBE_INFO_SOURCES = frozenset({"http", "local"})
"""Sources whose manager writes one UTF string: the container probe (``mp3``, ``flac|…``)."""

LAVASRC_SOURCES = frozenset(
    {"spotify", "applemusic", "deezer", "yandexmusic", "vkmusic", "tidal", "qobuz", "jiosaavn"}
)
"""LavaSrc sources built on ``ExtendedAudioSourceManager`` (album/artist/preview fields)."""

_VERSIONED_FLAG = 1
_MAX_UTF_BYTES = 0xFFFF
_MAX_MESSAGE_SIZE = 0x3FFFFFFF
_LONG = struct.Struct(">q")


class TrackDecodeError(ValueError):
    """The string is not a track lavaplayer could decode."""


@dataclass(frozen=True)
class LavaSrcInfo:
    """Fields LavaSrc's ``ExtendedAudioSourceManager`` writes after the source name."""

    album_name: str | None = None
    album_url: str | None = None
    artist_url: str | None = None
    artist_artwork_url: str | None = None
    preview_url: str | None = None
    is_preview: bool = False

    def plugin_info(self) -> dict[str, object]:
        """The ``pluginInfo`` object the LavaSrc plugin attaches to such a track."""
        return {
            "albumName": self.album_name,
            "albumUrl": self.album_url,
            "artistUrl": self.artist_url,
            "artistArtworkUrl": self.artist_artwork_url,
            "previewUrl": self.preview_url,
            "isPreview": self.is_preview,
        }


@dataclass(frozen=True)
class TrackInfo:
    """Everything an encoded track carries.

    ``raw_source_bytes`` keeps source-specific bytes whose layout this module does not model
    (an unknown source manager, an older plugin version) so such tracks re-encode unchanged;
    it is ``None`` for every track whose source bytes were parsed into fields.
    """

    title: str
    author: str
    length: int
    identifier: str
    is_stream: bool
    uri: str | None
    source_name: str
    artwork_url: str | None = None
    isrc: str | None = None
    position: int = 0
    probe_info: str | None = None
    lavasrc: LavaSrcInfo | None = None
    version: int = 3
    raw_source_bytes: bytes | None = None

    @property
    def is_seekable(self) -> bool:
        """Lavalink reports every non-stream track as seekable."""
        return not self.is_stream

    def to_json(self) -> dict[str, object]:
        """Lavalink's ``TrackInfo`` JSON object, keys in the server's order."""
        return {
            "identifier": self.identifier,
            "isSeekable": self.is_seekable,
            "author": self.author,
            "length": self.length,
            "isStream": self.is_stream,
            "position": self.position,
            "title": self.title,
            "uri": self.uri,
            "artworkUrl": self.artwork_url,
            "isrc": self.isrc,
            "sourceName": self.source_name,
        }


def track_json(
    info: TrackInfo,
    *,
    plugin_info: dict[str, object] | None = None,
    user_data: dict[str, object] | None = None,
) -> dict[str, object]:
    """A Lavalink ``Track`` object; LavaSrc tracks default to LavaSrc's ``pluginInfo``."""
    if plugin_info is None:
        plugin_info = info.lavasrc.plugin_info() if info.lavasrc is not None else {}
    return {
        "encoded": encode_track(info),
        "info": info.to_json(),
        "pluginInfo": plugin_info,
        "userData": user_data if user_data is not None else {},
    }


# --- writing -----------------------------------------------------------------------------


def _modified_utf8(text: str) -> bytes:
    """Java's modified UTF-8: NUL as C0 80, non-BMP characters as two 3-byte surrogates."""
    if text.isascii() and "\x00" not in text:
        return text.encode("ascii")
    out = bytearray()
    units = text.encode("utf-16-be", "surrogatepass")
    for index in range(0, len(units), 2):
        unit = (units[index] << 8) | units[index + 1]
        if 0x0001 <= unit <= 0x007F:
            out.append(unit)
        elif unit <= 0x07FF:
            out += bytes((0xC0 | (unit >> 6), 0x80 | (unit & 0x3F)))
        else:
            out += bytes((0xE0 | (unit >> 12), 0x80 | ((unit >> 6) & 0x3F), 0x80 | (unit & 0x3F)))
    return bytes(out)


class _Writer:
    """The subset of ``java.io.DataOutput`` lavaplayer uses."""

    def __init__(self) -> None:
        self.data = bytearray()

    def utf(self, text: str) -> None:
        encoded = _modified_utf8(text)
        if len(encoded) > _MAX_UTF_BYTES:
            raise ValueError(f"encoded string too long: {len(encoded)} bytes")
        self.data += len(encoded).to_bytes(2, "big") + encoded

    def nullable_utf(self, text: str | None) -> None:
        self.boolean(text is not None)
        if text is not None:
            self.utf(text)

    def boolean(self, value: bool) -> None:
        self.data.append(1 if value else 0)

    def long(self, value: int) -> None:
        self.data += _LONG.pack(value)


def encode_track(info: TrackInfo) -> str:
    """The base64 string lavaplayer writes for ``info`` (format version ``info.version``)."""
    if info.version not in (1, 2, 3):
        raise ValueError(f"unsupported track format version {info.version}")
    out = _Writer()
    if info.version >= 2:
        out.data.append(info.version)
    out.utf(info.title)
    out.utf(info.author)
    out.long(info.length)
    out.utf(info.identifier)
    out.boolean(info.is_stream)
    if info.version >= 2:
        out.nullable_utf(info.uri)
    if info.version >= 3:
        out.nullable_utf(info.artwork_url)
        out.nullable_utf(info.isrc)
    out.utf(info.source_name)
    _write_source_bytes(out, info)
    out.long(info.position)
    if len(out.data) > _MAX_MESSAGE_SIZE:
        raise ValueError("track too large for a lavaplayer message")
    flags = _VERSIONED_FLAG if info.version >= 2 else 0
    header = ((flags << 30) | len(out.data)).to_bytes(4, "big")
    return base64.b64encode(header + bytes(out.data)).decode("ascii")


def _write_source_bytes(out: _Writer, info: TrackInfo) -> None:
    if info.raw_source_bytes is not None:
        out.data += info.raw_source_bytes
    elif info.source_name in PROBE_INFO_SOURCES:
        out.utf(info.probe_info or "")
    elif info.lavasrc is not None:
        extra = info.lavasrc
        for text in (
            extra.album_name,
            extra.album_url,
            extra.artist_url,
            extra.artist_artwork_url,
            extra.preview_url,
        ):
            out.nullable_utf(text)
        out.boolean(extra.is_preview)


# --- reading -----------------------------------------------------------------------------


class _Reader:
    """The subset of ``java.io.DataInput`` lavaplayer uses, bounded to one message body."""

    def __init__(self, data: bytes, end: int) -> None:
        self.data = data
        self.offset = 0
        self.end = end

    def take(self, count: int) -> bytes:
        if count < 0 or self.offset + count > self.end:
            raise TrackDecodeError("track data ends early")
        chunk = self.data[self.offset : self.offset + count]
        self.offset += count
        return chunk

    def byte(self) -> int:
        return self.take(1)[0]

    def boolean(self) -> bool:
        return self.byte() != 0

    def long(self) -> int:
        value: int = _LONG.unpack(self.take(8))[0]
        return value

    def utf(self) -> str:
        length = int.from_bytes(self.take(2), "big")
        return _decode_modified_utf8(self.take(length))

    def nullable_utf(self) -> str | None:
        return self.utf() if self.boolean() else None


def _decode_modified_utf8(raw: bytes) -> str:
    """Decode as ``DataInputStream.readUTF`` does, rejecting what it rejects."""
    if raw.isascii():
        return raw.decode("ascii")
    units = bytearray()
    index, size = 0, len(raw)
    while index < size:
        first = raw[index]
        if first < 0x80:
            unit, index = first, index + 1
        elif first >> 5 == 0b110 and index + 1 < size and raw[index + 1] >> 6 == 0b10:
            unit = ((first & 0x1F) << 6) | (raw[index + 1] & 0x3F)
            index += 2
        elif (
            first >> 4 == 0b1110
            and index + 2 < size
            and raw[index + 1] >> 6 == 0b10
            and raw[index + 2] >> 6 == 0b10
        ):
            unit = ((first & 0x0F) << 12) | ((raw[index + 1] & 0x3F) << 6) | (raw[index + 2] & 0x3F)
            index += 3
        else:
            raise TrackDecodeError(f"malformed modified UTF-8 around byte {index}")
        units += unit.to_bytes(2, "big")
    return units.decode("utf-16-be", "surrogatepass")


def decode_track(encoded: str) -> TrackInfo:
    """Read a track string as lavaplayer's ``decodeTrack`` does (format versions 1 to 3)."""
    try:
        padded = encoded.strip() + "=" * (-len(encoded.strip()) % 4)
        data = base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError) as error:
        raise TrackDecodeError("track is not valid base64") from error
    if len(data) < 4:
        raise TrackDecodeError("track data ends early")
    header = int.from_bytes(data[:4], "big")
    flags, size = header >> 30, header & _MAX_MESSAGE_SIZE
    if size == 0 or 4 + size > len(data):
        raise TrackDecodeError("track message size does not match its data")
    reader = _Reader(data[4:], size)
    version = reader.byte() if flags & _VERSIONED_FLAG else 1
    if version not in (1, 2, 3):
        raise TrackDecodeError(f"unsupported track format version {version}")
    title = reader.utf()
    author = reader.utf()
    length = reader.long()
    identifier = reader.utf()
    is_stream = reader.boolean()
    uri = reader.nullable_utf() if version >= 2 else None
    artwork_url = reader.nullable_utf() if version >= 3 else None
    isrc = reader.nullable_utf() if version >= 3 else None
    source_name = reader.utf()
    source_bytes = reader.take(size - 8 - reader.offset) if size - 8 >= reader.offset else None
    if source_bytes is None:
        raise TrackDecodeError("track data ends early")
    position = reader.long()
    probe_info, lavasrc, raw = _parse_source_bytes(source_name, source_bytes)
    return TrackInfo(
        title=title,
        author=author,
        length=length,
        identifier=identifier,
        is_stream=is_stream,
        uri=uri,
        source_name=source_name,
        artwork_url=artwork_url,
        isrc=isrc,
        position=position,
        probe_info=probe_info,
        lavasrc=lavasrc,
        version=version,
        raw_source_bytes=raw,
    )


def _parse_source_bytes(
    source_name: str, data: bytes
) -> tuple[str | None, LavaSrcInfo | None, bytes | None]:
    """Split source-specific bytes into (probe info, LavaSrc fields, unmodelled raw bytes)."""
    reader = _Reader(data, len(data))
    try:
        if source_name in PROBE_INFO_SOURCES and data:
            probe_info = reader.utf()
            if reader.offset == len(data):
                return probe_info, None, None
        elif source_name in LAVASRC_SOURCES and data:
            lavasrc = LavaSrcInfo(
                album_name=reader.nullable_utf(),
                album_url=reader.nullable_utf(),
                artist_url=reader.nullable_utf(),
                artist_artwork_url=reader.nullable_utf(),
                preview_url=reader.nullable_utf(),
                is_preview=reader.boolean(),
            )
            if reader.offset == len(data):
                return None, lavasrc, None
        elif not data and source_name not in PROBE_INFO_SOURCES:
            return None, None, None
    except TrackDecodeError:
        pass
    return None, None, data
