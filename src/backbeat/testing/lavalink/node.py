"""The state of one emulated Lavalink node, independent of HTTP.

Sessions, players, the clock, the catalog and the fault plan live here; the REST and
WebSocket handlers translate requests into calls on :class:`LavalinkNode`, and its
:meth:`~LavalinkNode.tick` moves playback forward (track ends, faults, periodic
``playerUpdate`` and ``stats``, resume timeouts).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import os
import resource
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from aiohttp import web

from backbeat.observability.logging import get_logger
from backbeat.testing.lavalink.clock import Clock
from backbeat.testing.lavalink.codec import TrackInfo
from backbeat.testing.lavalink.failures import LoadFailure
from backbeat.testing.lavalink.faults import FaultPlan
from backbeat.testing.lavalink.player import Player
from backbeat.testing.lavalink.sessions import Session, new_session_id
from backbeat.testing.lavalink.voice_check import VoiceVerifier

_log = get_logger(__name__)

#: Filters Lavalink ships; all enabled unless the node is configured otherwise.
BUILTIN_FILTERS = (
    "volume",
    "equalizer",
    "karaoke",
    "timescale",
    "tremolo",
    "vibrato",
    "distortion",
    "rotation",
    "channelMix",
    "lowPass",
)


class TrackCatalog(Protocol):
    """What the node needs from :class:`backbeat.testing.lavalink.catalog.Catalog`."""

    def load(self, identifier: str) -> dict[str, Any]: ...

    def load_search(self, query: str, types: set[str]) -> dict[str, Any] | None: ...

    def lyrics_for(self, info: TrackInfo) -> dict[str, Any] | None: ...

    def __len__(self) -> int: ...


@dataclass(frozen=True)
class NodeConfig:
    """Settings of one node (the ``application.yml`` of a real Lavalink)."""

    password: str = "youshallnotpass"
    player_update_interval: float = 5.0
    stats_interval: float = 60.0
    cleanup_threshold_ms: int = 60_000
    version: str = "4.2.2"
    route_planner: bool = False
    disabled_filters: frozenset[str] = field(default_factory=frozenset)


class LavalinkNode:
    """Sessions, players and playback of one node."""

    def __init__(
        self,
        config: NodeConfig,
        clock: Clock,
        catalog: TrackCatalog,
        faults: FaultPlan,
        verifier: VoiceVerifier,
    ) -> None:
        self.config = config
        self.clock = clock
        self.catalog = catalog
        self.faults = faults
        self.verifier = verifier
        self.sessions: dict[str, Session] = {}
        self.failing_addresses: dict[str, int] = {}
        self.started_wall = time.time()
        #: (due clock ms, order, player): what :meth:`tick` looks at, instead of every player.
        self._schedule: list[tuple[float, int, Player]] = []
        self._order = itertools.count()
        self._cpu_sample = (time.monotonic(), time.process_time())

    def now(self) -> float:
        return self.clock.now_ms()

    # ----- sessions ------------------------------------------------------------------

    def can_resume(self, session_id: str | None) -> bool:
        """A paused resumable session with this id exists (its timeout stops now)."""
        if not session_id:
            return False
        session = self.sessions.get(session_id)
        if session is None or not session.paused:
            return False
        session.expires_at_ms = None
        return True

    def open_session(
        self,
        ws: web.WebSocketResponse,
        request: web.Request,
        user_id: int,
        client_name: str | None,
        resume_id: str | None,
    ) -> Session:
        """Attach a new socket: resume the named session or create one (ready, then stats)."""
        now = self.now()
        if resume_id is not None:
            existing = self.sessions.get(resume_id)
            if existing is not None and existing.paused:
                existing.resume(ws, request, now)
                _log.info("lavalink_emulator.session_resumed", session_id=resume_id)
                return existing
        session = Session(new_session_id(lambda sid: sid in self.sessions), user_id, client_name)
        session.attach(ws, request)
        self.sessions[session.id] = session
        session.emit({"op": "ready", "resumed": False, "sessionId": session.id})
        session.emit(self.stats_message(session))
        session.next_stats_ms = now + self.config.stats_interval * 1000.0
        _log.info("lavalink_emulator.session_opened", session_id=session.id, user_id=user_id)
        return session

    def socket_closed(self, session: Session, ws: web.WebSocketResponse) -> None:
        """A session's socket is gone: pause it (resumable) or destroy its players."""
        if session.ws is not ws or self.sessions.get(session.id) is not session:
            return
        now = self.now()
        if session.resumable:
            session.pause(now)
            _log.info("lavalink_emulator.session_paused", session_id=session.id)
        else:
            session.shutdown(now)
            del self.sessions[session.id]
            _log.info("lavalink_emulator.session_closed", session_id=session.id)

    def active_sessions(self) -> list[Session]:
        return [s for s in self.sessions.values() if not s.paused]

    def lose_state(self) -> None:
        """A crashed process forgets everything."""
        now = self.now()
        for session in self.sessions.values():
            session.shutdown(now)
        self.sessions.clear()
        self.started_wall = time.time()

    def make_player(self, session: Session, guild_id: int) -> Player:
        player = Player(
            guild_id,
            session.emit,
            now_ms=self.now(),
            cleanup_threshold_ms=self.config.cleanup_threshold_ms,
        )
        player.wake = self.schedule
        return player

    def schedule(self, player: Player) -> None:
        """Put ``player`` in the schedule at its next due time; an entry of an earlier call
        stays in the heap and is skipped when it comes up."""
        due = player.next_due_ms(self.now(), self.config.player_update_interval * 1000.0)
        player.due_ms = due
        if due is not None:
            heapq.heappush(self._schedule, (due, next(self._order), player))

    @property
    def scheduled(self) -> int:
        """Entries in the schedule (current and stale)."""
        return len(self._schedule)

    # ----- playback ------------------------------------------------------------------

    def start_track(
        self,
        session: Session,
        player: Player,
        info: TrackInfo,
        *,
        start_position: int | None,
        user_data: dict[str, Any] | None,
        end_time: int | None,
    ) -> None:
        """Play a track, arming the faults meant for it and the lyrics events asked for."""
        failure: LoadFailure | None = self.faults.take_load_fault("play", info.identifier, info.uri)
        track_faults = self.faults.track_faults_for(player.guild_id, info.identifier)
        player.play(
            info,
            self.now(),
            start_position=start_position,
            user_data=user_data,
            end_time=end_time,
            load_failure=failure,
            faults=track_faults,
        )
        if player.guild_id in session.lyrics_subscribed:
            self.emit_lyrics(session, player.guild_id, info)

    def emit_lyrics(self, session: Session, guild_id: int, info: TrackInfo) -> None:
        lyrics = self.catalog.lyrics_for(info)
        if lyrics is None:
            session.emit({"op": "event", "type": "LyricsNotFoundEvent", "guildId": str(guild_id)})
        else:
            session.emit(
                {
                    "op": "event",
                    "type": "LyricsFoundEvent",
                    "guildId": str(guild_id),
                    "lyrics": lyrics,
                }
            )

    # ----- time ----------------------------------------------------------------------

    async def tick(self) -> None:
        """Fire everything due on the clock, then flush every session's messages."""
        now = self.now()
        interval_ms = self.config.player_update_interval * 1000.0
        schedule = self._schedule
        ticked: list[Player] = []
        while schedule and schedule[0][0] <= now:
            due, _, player = heapq.heappop(schedule)
            if player.due_ms != due or player.destroyed:
                continue  # rescheduled since, or gone
            player.due_ms = None
            player.tick(now, interval_ms)
            ticked.append(player)
        for player in ticked:  # after the loop: what is due again now waits for the next tick
            if player.due_ms is None:  # (a change during the tick rescheduled it already)
                self.schedule(player)
        for session in list(self.sessions.values()):
            expires = session.expires_at_ms
            if session.paused and expires is not None and now >= expires:
                session.shutdown(now)
                self.sessions.pop(session.id, None)
                _log.info("lavalink_emulator.session_expired", session_id=session.id)
                continue
            if now >= session.next_stats_ms:
                session.emit(self.stats_message(session))
                session.next_stats_ms = now + self.config.stats_interval * 1000.0
        if len(self._schedule) > 64 and len(self._schedule) > 4 * self._live_players():
            self._compact()
        await self.flush_all()

    def _live_players(self) -> int:
        return sum(len(s.players) for s in self.sessions.values())

    def _compact(self) -> None:
        """Drop the stale entries (players rescheduled or destroyed since)."""
        self._schedule = [
            entry
            for entry in self._schedule
            if entry[2].due_ms == entry[0] and not entry[2].destroyed
        ]
        heapq.heapify(self._schedule)

    async def flush_all(self) -> None:
        await asyncio.gather(*(s.flush() for s in self.sessions.values() if not s.paused))

    # ----- stats ---------------------------------------------------------------------

    def _cpu(self) -> dict[str, Any]:
        cores = os.cpu_count() or 1
        try:
            system_load = min(1.0, os.getloadavg()[0] / cores)
        except OSError:
            system_load = 0.0
        wall, cpu = time.monotonic(), time.process_time()
        last_wall, last_cpu = self._cpu_sample
        self._cpu_sample = (wall, cpu)
        elapsed = wall - last_wall
        process_load = (cpu - last_cpu) / elapsed / cores if elapsed > 0 else 0.0
        return {
            "cores": cores,
            "systemLoad": system_load,
            "lavalinkLoad": max(0.0, min(1.0, process_load)),
        }

    @staticmethod
    def _memory() -> dict[str, int]:
        used = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        allocated = used + used // 2
        return {
            "free": allocated - used,
            "used": used,
            "allocated": allocated,
            "reservable": 4 * 1024**3,
        }

    def stats(self, session: Session | None = None) -> dict[str, Any]:
        """Lavalink's stats; ``frameStats`` only for one session's socket, else null."""
        now = self.now()
        active = self.active_sessions()
        players = sum(len(s.players) for s in active)
        playing = sum(1 for s in active for p in s.players.values() if p.playing)
        frame_stats: dict[str, int] | None = None
        if session is not None:
            counts = [
                sent
                for p in session.players.values()
                if p.playing and (sent := p.frames_sent(now)) is not None
            ]
            if counts:
                average = sum(counts) // len(counts)
                frame_stats = {"sent": average, "nulled": 0, "deficit": 3000 - average}
        return {
            "players": players,
            "playingPlayers": playing,
            "uptime": int((time.time() - self.started_wall) * 1000),
            "memory": self._memory(),
            "cpu": self._cpu(),
            "frameStats": frame_stats,
        }

    def stats_message(self, session: Session) -> dict[str, Any]:
        return {"op": "stats", **self.stats(session)}

    def info(self) -> dict[str, Any]:
        """The ``/v4/info`` body."""
        major, minor, patch = (int(part) for part in self.config.version.split(".")[:3])
        filters = [f for f in BUILTIN_FILTERS if f not in self.config.disabled_filters]
        return {
            "version": {
                "semver": self.config.version,
                "major": major,
                "minor": minor,
                "patch": patch,
                "preRelease": None,
                "build": None,
            },
            "buildTime": 1_735_689_600_000,
            "git": {"branch": "main", "commit": "d7d5a54", "commitTime": 1_735_680_000_000},
            "jvm": "21.0.5",
            "lavaplayer": "2.2.4",
            "sourceManagers": ["youtube", "soundcloud", "spotify", "applemusic", "deezer", "http"],
            "filters": filters,
            "plugins": [
                {"name": "youtube-plugin", "version": "1.13.3"},
                {"name": "lavasrc-plugin", "version": "4.7.2"},
                {"name": "lavasearch-plugin", "version": "1.0.0"},
                {"name": "lavalyrics-plugin", "version": "1.1.0"},
            ],
        }
