"""The seam between the command processor and the Lavalink layer of the audio service.

The processor (``backbeat.audio.processor`` and its handlers) decides *what* a guild's player
should do from the SQL queue; the Lavalink layer (``backbeat.audio.lavalink``) makes a node do
it and reports what the node did as :data:`PlayerEvent` values. The processor depends only on
:class:`Players`, never on lavalink.py.

Events are produced inside lavalink.py's socket reader, so the Lavalink layer only *enqueues*
them (no I/O there); the processor drains them in its own task, per guild, in order.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal, Protocol

from backbeat.domain.queue import QueueTrack

TrackEndReason = Literal["finished", "loadFailed", "stopped", "replaced", "cleanup"]
Severity = Literal["common", "suspicious", "fault"]


class LoadKind(StrEnum):
    """Lavalink's ``loadType`` values."""

    TRACK = "track"
    PLAYLIST = "playlist"
    SEARCH = "search"
    EMPTY = "empty"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class LoadResult:
    """What ``/v4/loadtracks`` answered, as domain tracks.

    ``tracks``: one for ``track``, every track for ``playlist`` and ``search`` (best match
    first), none for ``empty`` and ``error``. ``error`` carries Lavalink's exception message.
    """

    kind: LoadKind
    tracks: tuple[QueueTrack, ...] = ()
    playlist_name: str | None = None
    selected_index: int | None = None
    error: str | None = None
    severity: Severity | None = None
    cause: str | None = None


@dataclass(frozen=True, slots=True)
class TrackStarted:
    guild_id: int
    encoded: str


@dataclass(frozen=True, slots=True)
class TrackEnded:
    guild_id: int
    encoded: str
    reason: TrackEndReason


@dataclass(frozen=True, slots=True)
class TrackFailed:
    """TrackExceptionEvent (a TrackEnded with ``loadFailed`` follows it)."""

    guild_id: int
    encoded: str
    message: str
    severity: Severity
    cause: str = ""


@dataclass(frozen=True, slots=True)
class TrackStuck:
    guild_id: int
    encoded: str
    threshold_ms: int


@dataclass(frozen=True, slots=True)
class PlayerPosition:
    """A playerUpdate: the position at Lavalink's ``time`` (unix ms), and voice connectivity."""

    guild_id: int
    position_ms: int
    time_ms: int
    connected: bool


@dataclass(frozen=True, slots=True)
class VoiceClosed:
    """WebSocketClosedEvent: Discord closed the node's voice connection."""

    guild_id: int
    code: int
    reason: str
    by_remote: bool


@dataclass(frozen=True, slots=True)
class VoiceMoved:
    """The bot's voice state shows another channel than requested (a moderator moved it)."""

    guild_id: int
    channel_id: int


@dataclass(frozen=True, slots=True)
class VoiceDisconnected:
    """The bot's voice state shows no channel although no leave was requested."""

    guild_id: int


@dataclass(frozen=True, slots=True)
class NodeChanged:
    """A node became available or unavailable (for readiness and the node-state gauge).

    ``extra`` says more (docs/audio.md "Lavalink layer", node loss): up with
    ``session_id``/``resumed``; later ``adopted`` (guilds of a resumed session this process
    took over) or ``restored`` (held guilds re-created there); down with ``code``/``reason``
    and ``state: "resuming"`` on the drop, then ``state: "down"``, ``all_down`` and ``held``
    (guilds waiting for a node) once the grace has passed.
    """

    node: str
    available: bool
    extra: Mapping[str, Any] = field(default_factory=dict)


PlayerEvent = (
    TrackStarted
    | TrackEnded
    | TrackFailed
    | TrackStuck
    | PlayerPosition
    | VoiceClosed
    | VoiceMoved
    | VoiceDisconnected
    | NodeChanged
)

#: Sends op 4 through the gateway: ``(guild_id, channel_id or None to leave)``.
VoiceRequest = Callable[[int, int | None], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class PlayerSnapshot:
    """What the node's player is doing, as far as this process knows.

    ``position_ms`` is the position Lavalink last reported (or a seek/play set), read at
    ``position_time_ms`` on Lavalink's clock (unix ms; 0 before the first report): to know
    the position now, add the time since then while playing, connected and not paused.
    """

    guild_id: int
    node: str | None
    channel_id: int | None
    connected: bool
    playing: str | None
    paused: bool
    volume: int
    position_ms: int
    filters: Mapping[str, Any]
    position_time_ms: int = 0


class Players(Protocol):
    """Players on Lavalink nodes, one per guild; every call is idempotent where it can be."""

    async def start(self) -> None:
        """Connect to every configured node."""

    async def close(self) -> None:
        """Disconnect from the nodes (players on the node are left as they are)."""

    def events(self) -> AsyncIterator[PlayerEvent]:
        """Every event in the order the nodes sent them; one iterator per process."""

    async def ready(self) -> bool:
        """Whether at least one node is connected and usable."""

    def stats(self) -> Mapping[str, Any]:
        """Nodes with their state, players and playing players, for ``/stats``."""

    async def load(self, identifier: str) -> LoadResult:
        """Resolve an identifier (``ytsearch:…`` or a URL) on the best node."""

    async def lyrics(self, encoded: str) -> Mapping[str, Any] | None:
        """The node's lyrics of a track (LavaLyrics ``GET /v4/lyrics``), None when none."""

    async def connect(self, guild_id: int, channel_id: int) -> None:
        """Join ``channel_id`` (or move there) and return once Lavalink reports the voice
        connection as connected. Asks the gateway via the :data:`VoiceRequest` given at
        construction; raises :class:`~backbeat.audio.errors.VoiceTimeoutError` after the
        handshake timeout, leaving no player behind."""

    async def voice_state(self, data: Mapping[str, Any]) -> None:
        """A raw VOICE_STATE_UPDATE ``d`` object for the bot user."""

    async def voice_server(self, data: Mapping[str, Any]) -> None:
        """A raw VOICE_SERVER_UPDATE ``d`` object."""

    def is_connected(self, guild_id: int) -> bool:
        """Whether Lavalink reported the guild's voice connection as connected."""

    async def play(
        self,
        guild_id: int,
        track: QueueTrack,
        *,
        start_ms: int = 0,
        paused: bool = False,
        volume: int = 100,
        filters: Mapping[str, Any] | None = None,
    ) -> None:
        """Play ``track`` now, replacing whatever plays."""

    async def set_paused(self, guild_id: int, paused: bool) -> None: ...

    async def seek(self, guild_id: int, position_ms: int) -> None: ...

    async def set_volume(self, guild_id: int, percent: int) -> None:
        """Lavalink volume in percent (100 = unchanged)."""

    async def set_filters(self, guild_id: int, filters: Mapping[str, Any]) -> None:
        """Replace every filter with this Lavalink filters object (``{}`` clears)."""

    async def stop(self, guild_id: int) -> None:
        """Stop the current track; voice stays connected."""

    async def disconnect(self, guild_id: int) -> None:
        """Destroy the guild's player, if any, and leave voice (a requested leave: no
        :class:`VoiceDisconnected` follows). The leave is asked for even without a player."""

    async def destroy(self, guild_id: int) -> None:
        """Remove the guild's player from its node and forget it (no voice request sent)."""

    def snapshot(self, guild_id: int) -> PlayerSnapshot | None:
        """The guild's player as last reported, None when there is none."""

    def holds(self, guild_id: int) -> bool:
        """Whether this process has a player for the guild (a lookup: the gauges ask it
        for every guild every few seconds, where building a snapshot would cost)."""
