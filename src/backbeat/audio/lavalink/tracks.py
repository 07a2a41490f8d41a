"""Lavalink JSON to domain: Track objects to `QueueTrack`, load results to `LoadResult`.

Pure functions over the JSON Lavalink v4 sends (``docs/api/rest.md``); no lavalink.py types.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from backbeat.audio.ports import LoadKind, LoadResult, PlayerSnapshot, Severity
from backbeat.domain.queue import QueueTrack

#: Lavalink's length of a stream (``Long.MAX_VALUE``); such tracks get ``length_ms`` 0.
STREAM_LENGTH = 9_223_372_036_854_775_807

#: The ``userData`` key of what Backbeat keeps with a track on the node.
USER_DATA_KEY = "backbeat"

_SEVERITIES: frozenset[str] = frozenset({"common", "suspicious", "fault"})


def queue_track(track: Mapping[str, Any]) -> QueueTrack:
    """A Lavalink Track object ``{encoded, info, pluginInfo, userData}`` as a domain track.

    ``extra`` keeps what the domain type has no field for: ``isrc``, ``isSeekable`` and a
    non-empty ``pluginInfo``.
    """
    info: Mapping[str, Any] = track.get("info") or {}
    is_stream = bool(info.get("isStream", False))
    length = int(info.get("length", 0) or 0)
    extra: dict[str, Any] = {"isSeekable": bool(info.get("isSeekable", not is_stream))}
    if info.get("isrc"):
        extra["isrc"] = str(info["isrc"])
    plugin_info = track.get("pluginInfo")
    if isinstance(plugin_info, Mapping) and plugin_info:
        extra["pluginInfo"] = dict(plugin_info)
    return QueueTrack(
        encoded=str(track["encoded"]),
        identifier=str(info.get("identifier", "")),
        title=str(info.get("title", "")),
        author=str(info.get("author", "")),
        length_ms=0 if is_stream or length >= STREAM_LENGTH else length,
        is_stream=is_stream,
        uri=_optional_str(info.get("uri")),
        source_name=str(info.get("sourceName", "")),
        artwork_url=_optional_str(info.get("artworkUrl")),
        extra=extra,
    )


def track_body(encoded: str) -> dict[str, Any]:
    """A PATCH ``track`` that carries the encoded string Backbeat sent in ``userData``:
    Lavalink re-encodes tracks with their position, and a worker that adopts a resumed
    session's player needs the original to match it with its queue."""
    return {"encoded": encoded, "userData": {USER_DATA_KEY: {"encoded": encoded}}}


def sent_encoded(track: Mapping[str, Any]) -> str | None:
    """The encoded string Backbeat sent for a Lavalink Track object, None if not Backbeat's."""
    user_data = track.get("userData")
    if not isinstance(user_data, Mapping):
        return None
    ours = user_data.get(USER_DATA_KEY)
    if not isinstance(ours, Mapping) or not isinstance(ours.get("encoded"), str):
        return None
    return str(ours["encoded"])


def released_snapshot(guild_id: int, node: str, answer: Mapping[str, Any]) -> PlayerSnapshot:
    """A Lavalink Player object (of a released session) as a :class:`PlayerSnapshot`."""
    track = answer.get("track")
    playing = None
    if isinstance(track, Mapping) and track.get("encoded"):
        playing = sent_encoded(track) or str(track["encoded"])
    state: Mapping[str, Any] = answer.get("state") or {}
    voice: Mapping[str, Any] = answer.get("voice") or {}
    channel = voice.get("channelId")
    return PlayerSnapshot(
        guild_id=guild_id,
        node=node,
        channel_id=int(channel) if channel else None,
        connected=bool(state.get("connected", False)),
        playing=playing,
        paused=bool(answer.get("paused", False)),
        volume=int(answer.get("volume", 100)),
        position_ms=int(state.get("position", 0) or 0),
        filters=dict(answer.get("filters") or {}),
        position_time_ms=int(state.get("time", 0) or 0),
    )


def load_result(answer: Mapping[str, Any]) -> LoadResult:
    """``/v4/loadtracks``'s ``{loadType, data}`` as a :class:`LoadResult` (all five types)."""
    kind = LoadKind(str(answer["loadType"]))
    data = answer.get("data")
    if kind is LoadKind.TRACK:
        return LoadResult(kind, (queue_track(cast(Mapping[str, Any], data)),))
    if kind is LoadKind.SEARCH:
        return LoadResult(kind, tuple(queue_track(t) for t in cast(list[Any], data or [])))
    if kind is LoadKind.PLAYLIST:
        playlist = cast(Mapping[str, Any], data or {})
        info: Mapping[str, Any] = playlist.get("info") or {}
        tracks = tuple(queue_track(t) for t in playlist.get("tracks") or [])
        selected = int(info.get("selectedTrack", -1))
        return LoadResult(
            kind,
            tracks,
            playlist_name=_optional_str(info.get("name")),
            selected_index=selected if 0 <= selected < len(tracks) else None,
        )
    if kind is LoadKind.ERROR:
        error = cast(Mapping[str, Any], data or {})
        severity = str(error.get("severity", "fault"))
        return LoadResult(
            kind,
            error=str(error.get("message") or "unknown error"),
            severity=cast(Severity, severity if severity in _SEVERITIES else "fault"),
            cause=_optional_str(error.get("cause")),
        )
    return LoadResult(LoadKind.EMPTY)


def _optional_str(value: object) -> str | None:
    return None if value is None else str(value)
