"""One emulated Lavalink player: simulated playback of a track on the emulator's clock.

The player is a synchronous state machine. It never talks to the network: every message it
produces (events and ``playerUpdate``) goes to the ``emit`` callback of its session, in the
order real Lavalink sends them; the session flushes them to the WebSocket.

Playback follows lavaplayer: the position advances only while audio is being pulled, i.e.
while a voice connection is open and the player is not paused; ``timescale`` speed and rate
filters scale the advance; a track with nobody pulling audio for ``cleanup_threshold_ms`` is
ended with reason ``cleanup``; streams never end by themselves.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from backbeat.testing.lavalink.codec import TrackInfo, track_json
from backbeat.testing.lavalink.failures import LoadFailure
from backbeat.testing.lavalink.faults import TrackFault

Message = dict[str, Any]
Emit = Callable[[Message], None]

#: Lavaplayer sends one 20 ms Opus frame at a time: 50 frames per second, 3000 a minute.
FRAMES_PER_MINUTE = 3000

#: Reasons a track ends, and whether the client may start the next one.
MAY_START_NEXT = {
    "finished": True,
    "loadFailed": True,
    "stopped": False,
    "replaced": False,
    "cleanup": False,
}


@dataclass(frozen=True)
class VoiceState:
    """The four values a client must PATCH before a player can connect to voice."""

    token: str
    endpoint: str
    session_id: str
    channel_id: str

    def to_json(self) -> dict[str, str]:
        return {
            "token": self.token,
            "endpoint": self.endpoint,
            "sessionId": self.session_id,
            "channelId": self.channel_id,
        }


@dataclass
class ArmedFault:
    """A mid-track fault armed on the current track; fires once its track time is reached."""

    fault: TrackFault
    fired: bool = False


@dataclass
class CurrentTrack:
    """The track a player is playing, with what the client attached to it."""

    info: TrackInfo
    user_data: dict[str, Any] = field(default_factory=dict)
    end_time: int | None = None
    load_failure: LoadFailure | None = None
    faults: list[ArmedFault] = field(default_factory=list)


def _no_wake(_player: Player) -> None:
    return None


def epoch_ms() -> int:
    """Wall-clock milliseconds, as Lavalink writes ``state.time``."""
    return int(time.time() * 1000)


class Player:
    """Playback state of one guild in one session."""

    def __init__(
        self,
        guild_id: int,
        emit: Emit,
        *,
        now_ms: float,
        cleanup_threshold_ms: int = 60_000,
    ) -> None:
        self.guild_id = guild_id
        self._emit = emit
        self.volume = 100
        self.paused = False
        self.filters: dict[str, Any] = {}
        self.voice: VoiceState | None = None
        self.connected = False
        self.track: CurrentTrack | None = None
        self._anchor_clock = now_ms
        self._anchor_position = 0.0
        self._unattended_since: float | None = now_ms
        self._last_update_clock = now_ms
        self._playing_since: float | None = None
        self._cleanup_threshold_ms = cleanup_threshold_ms
        #: Told after a change that may make something due sooner (the node's schedule).
        self.wake: Callable[[Player], None] = _no_wake
        #: The clock time the node's schedule last put this player at (None: not scheduled).
        self.due_ms: float | None = None
        self.destroyed = False

    # ----- position -------------------------------------------------------------------

    @property
    def pulling(self) -> bool:
        """True while audio frames are being consumed (track, voice open, not paused)."""
        return self.track is not None and self.connected and not self.paused

    @property
    def playing(self) -> bool:
        """Lavalink's ``isPlaying``: a track and not paused."""
        return self.track is not None and not self.paused

    def _rate(self) -> float:
        timescale = self.filters.get("timescale")
        if not isinstance(timescale, dict):
            return 1.0
        speed = timescale.get("speed", 1.0)
        rate = timescale.get("rate", 1.0)
        try:
            value = float(speed) * float(rate)
        except (TypeError, ValueError):
            return 1.0
        return value if value > 0 else 1.0

    def _limit(self) -> float | None:
        if self.track is None:
            return None
        limits: list[float] = []
        if not self.track.info.is_stream:
            limits.append(float(self.track.info.length))
        if self.track.end_time is not None:
            limits.append(float(self.track.end_time))
        return min(limits) if limits else None

    def position(self, now_ms: float) -> int:
        """Track position in milliseconds at emulated time ``now_ms``."""
        if self.track is None:
            return 0
        value = self._anchor_position
        if self.pulling:
            value += (now_ms - self._anchor_clock) * self._rate()
        limit = self._limit()
        if limit is not None:
            value = min(value, limit)
        return max(0, int(value))

    def _rebase(self, now_ms: float) -> None:
        """Fix the position now, before something changing its speed changes."""
        self._anchor_position = float(self.position(now_ms))
        self._anchor_clock = now_ms

    def _after_change(self, now_ms: float) -> None:
        if self.pulling:
            if self._playing_since is None:
                self._playing_since = now_ms
        else:
            self._playing_since = None
        if self.connected:
            self._unattended_since = None
        elif self._unattended_since is None:
            self._unattended_since = now_ms
        self.wake(self)

    # ----- JSON ----------------------------------------------------------------------

    def track_json(self, now_ms: float) -> dict[str, Any] | None:
        """The current track as Lavalink writes it (info and encoding at the current position)."""
        if self.track is None:
            return None
        info = dataclasses.replace(self.track.info, position=self.position(now_ms))
        return track_json(info, user_data=self.track.user_data)

    def state_json(self, now_ms: float) -> dict[str, Any]:
        return {
            "time": epoch_ms(),
            "position": self.position(now_ms),
            "connected": self.connected,
            "ping": self.ping,
        }

    @property
    def ping(self) -> int:
        """Voice gateway round trip; -1 when not connected."""
        return 18 + self.guild_id % 23 if self.connected else -1

    def to_json(self, now_ms: float) -> dict[str, Any]:
        """The Player object of the REST API."""
        voice: dict[str, Any] = (
            self.voice.to_json()
            if self.voice is not None
            else {"token": "", "endpoint": "", "sessionId": "", "channelId": None}
        )
        return {
            "guildId": str(self.guild_id),
            "track": self.track_json(now_ms),
            "volume": self.volume,
            "paused": self.paused,
            "state": self.state_json(now_ms),
            "voice": voice,
            "filters": dict(self.filters),
        }

    # ----- messages --------------------------------------------------------------------

    def send_player_update(self, now_ms: float) -> None:
        self._last_update_clock = now_ms
        self._emit(
            {"op": "playerUpdate", "guildId": str(self.guild_id), "state": self.state_json(now_ms)}
        )

    def _event(self, event_type: str, **fields: Any) -> None:
        self._emit({"op": "event", "type": event_type, "guildId": str(self.guild_id), **fields})

    def _end(self, now_ms: float, reason: str) -> None:
        track = self.track_json(now_ms)
        self._rebase(now_ms)
        self.track = None
        self._anchor_position = 0.0
        self._playing_since = None
        self._event("TrackEndEvent", track=track, reason=reason)

    # ----- commands (REST PATCH/DELETE) ------------------------------------------------

    def play(
        self,
        info: TrackInfo,
        now_ms: float,
        *,
        start_position: int | None = None,
        user_data: dict[str, Any] | None = None,
        end_time: int | None = None,
        load_failure: LoadFailure | None = None,
        faults: list[TrackFault] | None = None,
    ) -> None:
        """Start a track: TrackEnd(replaced) for the old one, TrackStart, then playerUpdate."""
        if self.track is not None:
            self._end(now_ms, "replaced")
        position = start_position if start_position is not None else info.position
        self.track = CurrentTrack(
            info=dataclasses.replace(info, position=0),
            user_data=dict(user_data or {}),
            end_time=end_time,
            load_failure=load_failure,
            faults=[ArmedFault(f) for f in faults or []],
        )
        limit = self._limit()
        self._anchor_position = float(max(0, position if limit is None else min(position, limit)))
        self._anchor_clock = now_ms
        self._unattended_since = None if self.connected else now_ms
        self._after_change(now_ms)
        self._event("TrackStartEvent", track=self.track_json(now_ms))
        self.send_player_update(now_ms)

    def stop(self, now_ms: float, reason: str = "stopped") -> None:
        """End the current track (if any) with ``reason``."""
        if self.track is not None:
            self._end(now_ms, reason)

    def seek(self, position: int, now_ms: float) -> None:
        """Move to ``position`` (ignored for streams) and report at once."""
        if self.track is None:
            return
        if self.track.info.is_seekable:
            self._anchor_position = float(max(0, position))
            self._anchor_clock = now_ms
            limit = self._limit()
            if limit is not None:
                self._anchor_position = min(self._anchor_position, limit)
        self.send_player_update(now_ms)
        self.wake(self)

    def set_paused(self, paused: bool, now_ms: float) -> None:
        self._rebase(now_ms)
        self.paused = paused
        self._after_change(now_ms)

    def set_volume(self, volume: int) -> None:
        """Lavaplayer clamps the volume to 0..1000."""
        self.volume = max(0, min(1000, volume))

    def set_filters(self, filters: dict[str, Any], now_ms: float) -> None:
        """Filters replace all earlier filters; the client is told the state at once."""
        self._rebase(now_ms)
        self.filters = dict(filters)
        self.send_player_update(now_ms)
        self.wake(self)

    def set_end_time(self, end_time: int | None) -> None:
        if self.track is not None:
            self.track.end_time = end_time
            self.wake(self)

    def set_user_data(self, user_data: dict[str, Any]) -> None:
        if self.track is not None:
            self.track.user_data = dict(user_data)

    def connect_voice(self, voice: VoiceState, accepted: bool, now_ms: float) -> None:
        """A voice update: connect, or report Discord's 4006 when the credentials are refused."""
        self._rebase(now_ms)
        self.voice = voice
        if accepted:
            self.connected = True
            self._after_change(now_ms)
            self.send_player_update(now_ms)
        else:
            self.connected = False
            self._after_change(now_ms)
            self._event(
                "WebSocketClosedEvent",
                code=4006,
                reason="Session is no longer valid.",
                byRemote=True,
            )
            self.send_player_update(now_ms)

    def close_voice(self, code: int, reason: str, by_remote: bool, now_ms: float) -> None:
        """The voice gateway closed: WebSocketClosedEvent then a playerUpdate."""
        self._rebase(now_ms)
        self.connected = False
        self._after_change(now_ms)
        self._event("WebSocketClosedEvent", code=code, reason=reason, byRemote=by_remote)
        self.send_player_update(now_ms)

    def destroy(self, now_ms: float) -> None:
        """The player is removed: its track stops."""
        self.stop(now_ms, "stopped")
        self.connected = False
        self.destroyed = True

    # ----- time ----------------------------------------------------------------------

    def frames_sent(self, now_ms: float) -> int | None:
        """Opus frames sent in the last minute, None when this player's counter is not usable."""
        if self._playing_since is None or not self.pulling:
            return None
        played = min(60_000.0, now_ms - self._playing_since)
        return int(played / 60_000.0 * FRAMES_PER_MINUTE)

    def next_due_ms(self, now_ms: float, update_interval_ms: float) -> float | None:
        """The earliest clock time at which :meth:`tick` may have something to do (None:
        nothing until a change wakes the player): its next playerUpdate, its track's end, the
        next armed fault's track time, the cleanup of an unattended track."""
        track = self.track
        if track is None or self.destroyed:
            return None
        if track.load_failure is not None:
            return now_ms
        due = self._last_update_clock + update_interval_ms
        unattended = self._unattended_since
        if unattended is not None:
            due = min(due, unattended + self._cleanup_threshold_ms)
        position = self.position(now_ms)
        rate = self._rate() if self.pulling else 0.0
        targets: list[float] = [a.fault.after_ms for a in track.faults if not a.fired]
        limit = self._limit()
        if limit is not None and self.pulling:
            targets.append(limit)
        for target in targets:
            if position >= target:
                return now_ms
            if rate > 0:
                due = min(due, now_ms + (target - position) / rate)
        return due

    def tick(self, now_ms: float, update_interval_ms: float) -> None:
        """Fire whatever became due by ``now_ms``: failures, faults, track end, updates."""
        track = self.track
        if track is None:
            return
        if track.load_failure is not None:
            failure = track.load_failure
            track.load_failure = None
            self._fail(failure, now_ms)
            return
        position = self.position(now_ms)
        for armed in track.faults:
            if armed.fired or position < armed.fault.after_ms:
                continue
            armed.fired = True
            if armed.fault.kind == "stuck":
                self._event(
                    "TrackStuckEvent",
                    track=self.track_json(now_ms),
                    thresholdMs=armed.fault.threshold_ms,
                )
                self.send_player_update(now_ms)
            else:
                self._fail(armed.fault.failure, now_ms)
                return
        limit = self._limit()
        if limit is not None and self.pulling and position >= limit:
            self._end(now_ms, "finished")
            return
        unattended = self._unattended_since
        if unattended is not None and now_ms - unattended >= self._cleanup_threshold_ms:
            self._end(now_ms, "cleanup")
            return
        if now_ms - self._last_update_clock >= update_interval_ms:
            self.send_player_update(now_ms)

    def _fail(self, failure: LoadFailure, now_ms: float) -> None:
        self._event(
            "TrackExceptionEvent",
            track=self.track_json(now_ms),
            exception=failure.to_json(),
        )
        self._end(now_ms, "loadFailed")
