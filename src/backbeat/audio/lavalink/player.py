"""Backbeat's lavalink.py player: what Lavalink says the guild's player is doing.

The queue lives in SQL, so this is a :class:`lavalink.BasePlayer` subclass without
``DefaultPlayer``'s queue. It tracks Lavalink's own view (``state.connected``, the position
with Lavalink's ``time``, paused, volume, filters) from PATCH answers and ``playerUpdate``s.

``handle_event`` and ``update_state`` run inside lavalink.py's socket reader: they only update
fields and hand :data:`PlayerEvent` values to a sink (a queue's ``put_nowait``), never I/O.

Voice: lavalink.py 5.11 refreshes ``channelId`` only when Discord's voice session id changes,
but Discord keeps the session id across channel moves. This player keeps all four voice values
current and PATCHes them whenever one changed (Lavalink 4.2+ needs ``channelId``).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, cast

import lavalink

from backbeat.audio.lavalink import rest
from backbeat.audio.lavalink.tracks import sent_encoded, track_body
from backbeat.audio.ports import (
    PlayerEvent,
    PlayerPosition,
    Severity,
    TrackEnded,
    TrackEndReason,
    TrackFailed,
    TrackStarted,
    TrackStuck,
    VoiceClosed,
)
from backbeat.domain.queue import QueueTrack
from backbeat.observability.logging import get_logger

_log = get_logger(__name__)

#: The voice values Lavalink needs; what was sent is kept as a tuple in this order.
_VOICE_ORDER = ("sessionId", "endpoint", "token", "channelId")
_VOICE_KEYS = frozenset(_VOICE_ORDER)
_CHANNEL_AT = _VOICE_ORDER.index("channelId")
#: The filters of a player that has none (shared: most players have none).
NO_FILTERS: Mapping[str, Any] = MappingProxyType({})


class SentTrack:
    """The track Backbeat asked a node to play, as lavalink.py's events carry it.

    lavalink.py keeps a player's ``current`` and ``_next`` track and hands them to the
    track events; Backbeat's events need only the encoded string (the queue in SQL has the
    rest), so this stands in for lavalink.py's ``AudioTrack`` and its dicts of track info:
    a worker holds one or two per player.
    """

    __slots__ = ("track",)

    def __init__(self, encoded: str) -> None:
        self.track = encoded

    def __repr__(self) -> str:
        return f"SentTrack({self.track[:16]!r}…)"


#: BackbeatPlayer's own slots (lavalink.py's base has slots of its own; named apart so that
#: mypy, which sees the base as ``Any``, does not take these for all of them).
_SLOTS = (
    "_held_playing",
    "_held_since",
    "_quiet_start",
    "_sent_voice",
    "connected",
    "dirty",
    "encoded",
    "filters",
    "has_voice_server",
    "held",
    "on_change",
    "paused",
    "position_ms",
    "position_read_at",
    "requested_channel",
    "settled",
    "sink",
    "state_time_ms",
    "volume",
)


def _no_event(_event: PlayerEvent) -> None:
    """The sink of a player not attached yet."""


def _no_change(_player: BackbeatPlayer) -> None:
    """The change hook of a player not attached yet."""


class BackbeatPlayer(lavalink.BasePlayer):  # type: ignore[misc]
    """One guild's player on one node, as Lavalink last reported it (slotted, like
    lavalink.py's base: a worker holds thousands)."""

    __slots__ = _SLOTS
    #: lavalink.py's slots, holding what it hands to the track events.
    current: SentTrack | None
    _next: SentTrack | None

    def __init__(self, guild_id: int, node: Any) -> None:
        super().__init__(guild_id, node)
        self.sink: Callable[[PlayerEvent], None] = _no_event
        self.on_change: Callable[[BackbeatPlayer], None] = _no_change
        #: Lavalink's ``state.connected`` (lavalink.py's ``is_connected`` only means a channel id).
        self.connected = False
        self.position_ms = 0
        #: Lavalink's ``state.time`` (unix ms on the node's clock) of ``position_ms``.
        self.state_time_ms = 0
        self.paused = False
        self.volume = 100
        self.filters: Mapping[str, Any] = NO_FILTERS
        #: The encoded track we asked Lavalink to play (Lavalink re-encodes it with positions).
        self.encoded: str | None = None
        #: The channel this process asked for or accepted (a move by a moderator changes it).
        self.requested_channel: int | None = None
        #: Whether a VOICE_SERVER_UPDATE was seen since the bot last joined voice.
        self.has_voice_server = False
        #: ``time.monotonic()`` when ``position_ms`` was last set (to extrapolate it).
        self.position_read_at = time.monotonic()
        #: No node could take this player (every node down): calls change only these fields,
        #: and the player is re-created from them when a node returns.
        self.held = False
        #: A held player whose old node's player is known gone (it may be placed elsewhere).
        self.settled = False
        #: A call changed a held player (a node that comes back must be told).
        self.dirty = False
        self._held_since = 0.0
        #: A move re-started the track the processor knows: its TrackStartEvent is no news.
        self._quiet_start = False
        self._held_playing = False
        #: The voice values Lavalink last got (in ``_VOICE_ORDER``: a tuple, not a dict more).
        self._sent_voice: tuple[str, ...] | None = None

    @property
    def guild(self) -> int:
        return int(self.guild_id)

    @property
    def node_name(self) -> str:
        return rest.node_name(self.node)

    @property
    def lavalink_channel(self) -> int | None:
        """The ``channelId`` Lavalink last got in a voice update."""
        if self._sent_voice is None:
            return None
        return int(self._sent_voice[_CHANNEL_AT])

    def attach(
        self, sink: Callable[[PlayerEvent], None], on_change: Callable[[BackbeatPlayer], None]
    ) -> None:
        """Where events go, and whom to tell when the voice or connection state changed."""
        self.sink = sink
        self.on_change = on_change

    # ----- state from Lavalink ------------------------------------------------------

    def apply_state(self, state: Mapping[str, Any]) -> bool:
        """A Player ``state`` object; False (ignored) when older than what we have."""
        state_time = int(state.get("time", 0) or 0)
        if state_time < self.state_time_ms:
            return False
        self.state_time_ms = state_time
        self.position_ms = int(state.get("position", 0) or 0)
        self.position_read_at = time.monotonic()
        self.connected = bool(state.get("connected", False))
        return True

    def position_at(self, moment: float) -> int:
        """The position at ``moment`` (monotonic): extrapolated while a track plays, connected
        and unpaused (measured on this process's clock: node clocks may differ)."""
        if self.encoded is None or self.paused or not self.connected:
            return self.position_ms
        return self.position_ms + max(0, int((moment - self.position_read_at) * 1000))

    def apply_player(self, answer: Mapping[str, Any]) -> None:
        """A PATCH answer (Lavalink's Player object)."""
        self.volume = int(answer.get("volume", self.volume))
        self.paused = bool(answer.get("paused", self.paused))
        self.filters = _filters(answer.get("filters"))
        if answer.get("track") is None:
            self.encoded = None
        state = answer.get("state")
        if isinstance(state, Mapping):
            self.apply_state(state)
        self.on_change(self)

    async def update_state(self, state: Mapping[str, Any]) -> None:
        """A ``playerUpdate`` (socket reader: no I/O)."""
        if self.apply_state(state):
            self.sink(
                PlayerPosition(
                    guild_id=self.guild,
                    position_ms=self.position_ms,
                    time_ms=self.state_time_ms,
                    connected=self.connected,
                )
            )
            self.on_change(self)

    async def handle_event(self, event: Any) -> None:
        """A track or voice event (socket reader: no I/O), translated for the processor."""
        guild = self.guild
        if isinstance(event, lavalink.TrackStartEvent):
            if self._quiet_start:
                self._quiet_start = False
                _log.info("audio.track_resumed_on_node", guild_id=guild, node=self.node_name)
                return
            self.sink(TrackStarted(guild, _encoded(event.track, self.encoded)))
        elif isinstance(event, lavalink.TrackEndEvent):
            encoded = _encoded(event.track, self.encoded)
            reason = cast(TrackEndReason, event.reason.value)
            if reason != "replaced":
                self.current = None
                if self.encoded == encoded:
                    self.encoded = None
            self.sink(TrackEnded(guild, encoded, reason))
        elif isinstance(event, lavalink.TrackExceptionEvent):
            self.sink(
                TrackFailed(
                    guild,
                    _encoded(event.track, self.encoded),
                    message=str(event.message or ""),
                    severity=cast(Severity, event.severity.value),
                    cause=str(event.cause or ""),
                )
            )
        elif isinstance(event, lavalink.TrackStuckEvent):
            self.sink(TrackStuck(guild, _encoded(event.track, self.encoded), int(event.threshold)))
        elif isinstance(event, lavalink.WebSocketClosedEvent):
            self.connected = False
            self.sink(VoiceClosed(guild, int(event.code), str(event.reason), bool(event.by_remote)))
            self.on_change(self)

    # ----- playing ------------------------------------------------------------------

    def prepare(self, track: QueueTrack) -> None:
        """Before a PATCH that plays ``track``: lavalink.py's TrackStartEvent then carries it."""
        self._next = SentTrack(track.encoded)
        self.encoded = track.encoded

    def unprepare(self) -> None:
        """The PATCH failed: nothing new will start."""
        self._next = None

    # ----- voice (called through ``Client.voice_update_handler``, in our own tasks) ---------

    async def _voice_state_update(self, data: Mapping[str, Any]) -> None:
        raw_channel = data.get("channel_id")
        self.channel_id = int(raw_channel) if raw_channel else None
        if self.channel_id is None:  # left voice: the next join gets new credentials
            self._voice_state.clear()
            self._sent_voice = None
            self.connected = False
            self.has_voice_server = False
            return
        self._voice_state.update(sessionId=str(data["session_id"]), channelId=str(raw_channel))
        await self._dispatch_voice_update()

    async def _voice_server_update(self, data: Mapping[str, Any]) -> None:
        self.has_voice_server = True
        endpoint = data.get("endpoint")
        if isinstance(endpoint, str):
            endpoint = sys.intern(endpoint)  # a few regions' hosts, shared by many guilds
        self._voice_state.update(endpoint=endpoint, token=str(data["token"]))
        await self._dispatch_voice_update()

    async def _dispatch_voice_update(self) -> None:
        if self.held:
            return  # no node now: the node that takes the player gets the values kept here
        voice = cast(dict[str, Any], self._voice_state)
        if voice.keys() != _VOICE_KEYS or voice.get("endpoint") is None:
            return  # incomplete, or Discord is moving the voice server (endpoint null)
        values = _voice_values(voice)
        if values == self._sent_voice and self.connected:
            return  # a duplicate event: Lavalink already has these values and is connected
        payload = dict(zip(_VOICE_ORDER, values, strict=True))
        answer = await rest.update_player(self.node, self.guild, {"voice": payload})
        self._sent_voice = values
        self.apply_player(answer)

    # ----- node loss (``backbeat.audio.lavalink.failover`` calls these) --------------------

    async def node_unavailable(self) -> None:
        """lavalink.py's hook; unused: the failover supervisor decides what a drop means."""

    def hold(self) -> None:
        """The node is gone for now: calls change only this object until the player is
        placed again. Whether the old node played on is not known yet (see :meth:`settle`)."""
        if self.held:
            return
        now = time.monotonic()
        self._held_playing = self.encoded is not None and not self.paused and self.connected
        self.position_ms = self.position_at(now)
        self.position_read_at = now
        self._held_since = now
        self.held, self.settled, self.dirty = True, False, False
        self.connected = False

    def settle(self, stopped_at: float) -> None:
        """The old node's player is known gone since ``stopped_at`` (monotonic): until then it
        may have played on, so the position moves on to that moment (unless a call set it)."""
        if not self.held or self.settled:
            return
        if self._held_playing and not self.dirty:
            self.position_ms += max(0, int((stopped_at - self._held_since) * 1000))
        self.settled = True

    def unhold(self) -> None:
        """The node came back with its session: the player there played on."""
        self.held = self.settled = self.dirty = False

    def apply_held(self, body: Mapping[str, Any]) -> None:
        """A PATCH body applied to a held player (no node to send it to yet)."""
        self.dirty = True
        if "track" in body:
            track = body["track"] or {}
            if track.get("encoded") is None:
                self.encoded = None
                self._next = None
            self.position_ms = int(body.get("position", 0) or 0)
        elif "position" in body and self.encoded is not None:
            self.position_ms = int(body["position"])
        self.paused = bool(body.get("paused", self.paused))
        self.volume = int(body.get("volume", self.volume))
        if "filters" in body:
            self.filters = _filters(body["filters"])
        self.position_read_at = time.monotonic()

    def adopt(self, answer: Mapping[str, Any]) -> None:
        """A player found in a resumed session (this process restarted): take Lavalink's view
        of it (track, position, pause, volume, filters, voice) as ours."""
        track = answer.get("track")
        if isinstance(track, Mapping) and track.get("encoded"):
            # the string Backbeat sent (Lavalink's carries the position): events match on it
            encoded = sent_encoded(track) or str(track["encoded"])
            self.encoded = encoded
            self.current = SentTrack(encoded)
        voice = answer.get("voice")
        if isinstance(voice, Mapping) and all(voice.get(key) for key in _VOICE_KEYS):
            sent = _voice_values(voice)
            self._voice_state.update(zip(_VOICE_ORDER, sent, strict=True))
            self._sent_voice = sent
            self.channel_id = int(sent[_CHANNEL_AT])
            self.requested_channel = self.channel_id
            self.has_voice_server = True
        self.apply_player(answer)

    async def change_node(self, node: Any, position_ms: int | None = None) -> None:
        """Move to ``node`` in one PATCH: voice, and the track at ``position_ms`` (default: the
        last known position) with pause, volume and filters. The caller has made sure the
        old node's player is gone. Raises :class:`LavalinkRequestError`, leaving the player
        held (settled) on its old node, to be placed again."""
        # the answer is the new node's player: keep ours first
        encoded, paused = self.encoded, self.paused
        position = self.position_ms if position_ms is None else position_ms
        volume, filters = self.volume, dict(self.filters)
        saved_next = self._next
        starting = saved_next if saved_next is not None else self.current
        old_node: Any = self.node  # type: ignore[has-type]
        self.node = node
        self.held = self.settled = self.dirty = False
        self.connected = False
        self.state_time_ms = 0
        self._sent_voice = None
        body: dict[str, Any] = {"paused": paused, "volume": volume, "filters": filters}
        voice = cast(dict[str, Any], self._voice_state)
        if voice.keys() == _VOICE_KEYS and voice.get("endpoint") is not None:
            body["voice"] = {key: str(voice[key]) for key in _VOICE_KEYS}
        if encoded is not None:
            # the same track again: quiet; a track played while held: the processor's news
            self._quiet_start = saved_next is None
            self._next = starting
            self.encoded = encoded
            body.update(track=track_body(encoded), position=max(0, position))
        self.position_ms = max(0, position)
        self.position_read_at = time.monotonic()
        try:
            answer = await rest.update_player(node, self.guild, body)
        except BaseException:
            self.node = old_node
            self._next = saved_next
            self._quiet_start = False
            self.held = self.settled = True
            raise
        if "voice" in body:
            self._sent_voice = _voice_values(body["voice"])
        self.apply_player(answer)


def _voice_values(voice: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(str(voice[key]) for key in _VOICE_ORDER)


def _filters(raw: Any) -> Mapping[str, Any]:
    return dict(raw) if isinstance(raw, Mapping) and raw else NO_FILTERS


def _encoded(track: Any, fallback: str | None) -> str:
    if track is not None and getattr(track, "track", None):
        return str(track.track)
    return fallback or ""
