"""Players rebuilt from SQL when this worker takes over partitions.

The SQL queue is the system of record: for every session of a gained partition that was in a
voice channel with a current item, the worker plays the item again in its own node session,
from the position last recorded (extrapolated from when it was read while it was playing:
:mod:`backbeat.audio.positions` records the nodes' reports), paused if it was paused, with
its volume and filters (the loop mode and the queue are read from SQL by every later step).
Each guild is restored under the guild's lock (taken before the partition's consumers
start), so its commands wait for it and other guilds do not; the guilds wait in a queue that
at most :data:`RESTORE_CONCURRENCY` tasks drain. The
now-playing message of a restored session is *updated*, never created again.

Whose player it was decides how:

- **ours** (the node resumed this worker's session and the player is adopted): nothing to do
  but take it as playing;
- **another worker's, still connected** (a hand-over, or a worker that lost its lease while
  alive): taken over by REST (:mod:`backbeat.audio.takeover`): our player joins with the old
  player's voice credentials, the old player is deleted, ours plays from the old player's
  position. The gap is two REST calls; the two never play at once;
- **another worker's, not connected** (the worker died: its session waits for a resume
  nobody will make): it cannot be removed, so the guild is restored only once that session
  has certainly expired, ``resume_timeout_s`` + 1 s after the partition was gained (the dead
  worker's socket closed before its lease expired). The guild's lock is held meanwhile, so
  its commands wait (and then apply in order) rather than start a second player;
- **unknown** (no session recorded, or on a node not configured): a new voice handshake
  (``voice-join``) and play.

A guild whose handshake fails is left as SQL has it (the next ``/play`` or ``/summon`` tries
again).
"""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from backbeat.audio.context import Audio, View
from backbeat.audio.errors import CommandRefusedError
from backbeat.audio.guilds import GuildState
from backbeat.audio.takeover import OldPlayer, SessionTakeover
from backbeat.db.transactions import in_transaction
from backbeat.db.types import utc_now
from backbeat.domain.queue import QueueEntry, QueueSession
from backbeat.observability.logging import get_logger

_log = get_logger(__name__)

#: How long a restore waits for a ready node before it gives up on the guild.
NODE_READY_WAIT_S = 15.0
#: Added to the resume timeout before a dead worker's session counts as expired.
EXPIRY_MARGIN_S = 1.0
#: Guilds restored at once (each a voice handshake through the gateway, then a play): a
#: thousand handshakes at once would outlast the handshake timeout.
RESTORE_CONCURRENCY = 32
#: Guilds whose views (session, current item, upcoming length) one statement reads.
VIEWS_PER_READ = 1000


def _restorable(session: QueueSession) -> bool:
    """In a voice channel, and playing or with a timer running."""
    if session.voice_channel_id is None:
        return False
    return session.has_current or (
        session.idle_leave_at is not None or session.alone_leave_at is not None
    )


def resume_position(session: QueueSession, entry: QueueEntry, now: datetime) -> int:
    """The position to play ``entry`` from: the stored one, plus the time since it was read
    while playing (capped just before the end of a track of known length)."""
    position = session.position_ms
    if not session.paused and session.position_at is not None:
        position += max(0, int((now - session.position_at).total_seconds() * 1000))
    length = entry.track.length_ms
    if length and not entry.track.is_stream:
        position = min(position, max(0, length - 1_000))
    return max(0, position)


class Restorer:
    """Restores the guilds of partitions this worker gained."""

    def __init__(
        self,
        audio: Audio,
        partitions: int,
        *,
        takeover: SessionTakeover | None = None,
        own_sessions: Mapping[str, str] | None = None,
        resume_timeout_s: float = 60.0,
        on_batch_done: Callable[[int], None] | None = None,
    ) -> None:
        self.audio = audio
        #: Called with the number of guilds of a batch once its last restore is done (the
        #: owner decides what a large one calls for: the worker settles its memory).
        self.on_batch_done = on_batch_done
        self.partitions = partitions
        self.takeover = takeover
        #: This worker's session id per node (kept current by the player events).
        self.own_sessions: Mapping[str, str] = own_sessions if own_sessions is not None else {}
        self.resume_timeout_s = resume_timeout_s
        #: Guilds locked and waiting for a restore: (state, gained at, the session read
        #: then, and the view of one that was playing).
        self._waiting: collections.deque[tuple[GuildState, float, QueueSession, View | None]] = (
            collections.deque()
        )
        self._drains: set[asyncio.Task[None]] = set()
        self._draining = 0
        #: Guilds queued since the drains last ran dry.
        self._batch = 0
        self._later: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(RESTORE_CONCURRENCY)
        #: Guilds whose restore has not finished (a test and ``/stats`` may watch it).
        self.pending: set[int] = set()

    async def gained(self, partitions: frozenset[int]) -> None:
        """Start restoring every guild of ``partitions`` that was playing or had a timer
        running. Returns after reading the sessions with each such guild's lock taken (and
        its UI marked as shown), so the partitions' consumers can start: each guild's
        commands wait until its restore is done. The guilds wait in a queue drained by at
        most :data:`RESTORE_CONCURRENCY` tasks (not a task per guild: ten thousand waiting
        tasks cost memory the process keeps). The views of the playing ones (session,
        current item, upcoming length) are read here too, :data:`VIEWS_PER_READ` guilds a
        statement: no command changes them before their restore."""
        gained_at = time.monotonic()
        for partition in sorted(partitions):
            sessions = await self.audio.queue.sessions(
                partition=partition, partitions=self.partitions
            )
            restorable = [s for s in sessions if _restorable(s)]
            views = await self._views([s.guild_id for s in restorable if s.has_current])
            for read in restorable:
                state = self.audio.guilds.get(read.guild_id)
                await state.lock.acquire()  # a new state: taken at once, before any command
                if read.has_current:
                    state.ui_shown = True  # its now-playing message exists: update it
                self.pending.add(state.guild_id)
                view = views.get(read.guild_id)
                # the view's session is the same row, read just after: one copy kept
                session = view.session if view is not None and view.session is not None else read
                self._waiting.append((state, gained_at, session, view))
                self._batch += 1
        while self._waiting and len(self._drains) < RESTORE_CONCURRENCY:
            self._spawn(self._drain(), self._drains)

    async def _views(self, guild_ids: list[int]) -> dict[int, View]:
        views: dict[int, View] = {}
        for start in range(0, len(guild_ids), VIEWS_PER_READ):
            chunk = guild_ids[start : start + VIEWS_PER_READ]

            async def read(conn: AsyncConnection, chunk: list[int] = chunk) -> dict[int, View]:
                return await self.audio.read_views(chunk, conn)

            views.update(
                await in_transaction(self.audio.engine, "audio.restore_views", read, read_only=True)
            )
        return views

    def _spawn(self, work: Coroutine[Any, Any, None], into: set[asyncio.Task[None]]) -> None:
        task = asyncio.create_task(work)
        into.add(task)
        task.add_done_callback(into.discard)

    async def _drain(self) -> None:
        self._draining += 1
        try:
            while self._waiting:
                await self._restore(*self._waiting.popleft())
        finally:
            self._draining -= 1
        if not self._draining and not self._waiting:  # the batch's last
            batch, self._batch = self._batch, 0
            if batch and self.on_batch_done is not None:
                try:
                    self.on_batch_done(batch)
                except Exception:
                    _log.exception("restore_batch_hook_failed", guilds=batch)

    async def _arm_timers(self, state: GuildState, session: QueueSession) -> None:
        """Arm the guild's idle and alone timers from their stored deadlines (locked): the
        session as read when the partition was gained (the lock held since, so no command
        changed its deadlines; the restore changes only the position)."""
        timers = self.audio.timers
        if timers is None:
            return
        try:
            await timers.restore(state, session)
        except Exception:
            _log.exception("timer_restore_failed", guild_id=state.guild_id)

    async def _node_ready(self) -> bool:
        deadline = time.monotonic() + NODE_READY_WAIT_S
        while not await self.audio.players.ready():
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.05)
        return True

    async def _restore(
        self, state: GuildState, gained_at: float, session: QueueSession, view: View | None
    ) -> None:
        """Restore one guild; called with its lock held, releases it (or hands it to the
        task that waits for a dead worker's session to expire)."""
        log = _log.bind(guild_id=state.guild_id)
        waits = False
        try:
            if session.has_current:
                if not await self._node_ready():
                    log.warning("player_restore_failed", code="no_node")
                    return
                async with self._slots:
                    wait_until = await self._restore_locked(state, gained_at, view)
                if wait_until is not None:  # the guild's commands wait too: never two players
                    later = self._restore_after(state, gained_at, wait_until, session)
                    self._spawn(later, self._later)
                    waits = True
                    return
            await self._arm_timers(state, session)
        except CommandRefusedError as refused:
            log.warning("player_restore_failed", code=refused.code)
        except Exception:
            log.exception("player_restore_failed")
        finally:
            if not waits:
                self._done(state)

    async def _restore_after(
        self, state: GuildState, gained_at: float, at: float, session: QueueSession
    ) -> None:
        """Restore once the old session has certainly expired (lock held; released)."""
        log = _log.bind(guild_id=state.guild_id)
        try:
            await asyncio.sleep(max(0.0, at - time.monotonic()))
            async with self._slots:
                await self._restore_locked(state, gained_at, old_gone=True)
            await self._arm_timers(state, session)
        except CommandRefusedError as refused:
            log.warning("player_restore_failed", code=refused.code)
        except Exception:
            log.exception("player_restore_failed")
        finally:
            self._done(state)

    def _done(self, state: GuildState) -> None:
        state.lock.release()
        self.pending.discard(state.guild_id)

    async def _restore_locked(
        self,
        state: GuildState,
        gained_at: float,
        view: View | None = None,
        *,
        old_gone: bool = False,
    ) -> float | None:
        """Restore under the lock from ``view`` (read now when None); a monotonic time to
        try again at when the old player is in a session that is not connected (None:
        done)."""
        audio = self.audio
        log = _log.bind(guild_id=state.guild_id)
        if view is None:
            view = await audio.read_view(state.guild_id)
        session, entry = view.session, view.current
        if entry is None or session is None or session.voice_channel_id is None:
            return None  # a command changed it meanwhile
        snapshot = audio.players.snapshot(state.guild_id)
        if snapshot is not None and snapshot.connected and snapshot.playing == entry.track.encoded:
            state.playing = entry  # the node kept it playing (our resumed session)
            await audio.publish_ui(state, "update", view=view)
            log.info("player_adopted")
            return None
        old_session, node = session.lavalink_session_id, session.node_name
        foreign = (
            not old_gone
            and self.takeover is not None
            and old_session is not None
            and old_session not in self.own_sessions.values()
            and self.takeover.knows(node)
        )
        if foreign and self.takeover is not None and old_session is not None and node is not None:
            old = await self.takeover.read(node, old_session, state.guild_id)
            if old.state == "no_session":
                log.info("player_restore_waits_for_expiry", old_session=old_session)
                return gained_at + self.resume_timeout_s + EXPIRY_MARGIN_S
            if old.state == "found":
                await self._take_over(state, view, node=node, old_session=old_session, old=old)
                return None
        await audio.guild_settings(state)  # once: the play's autoplay check and the snapshot
        await audio.connect(state, session.voice_channel_id)
        position = resume_position(await self._read_since_start(session, entry), entry, utc_now())
        await audio.start_entry(state, entry, session, start_ms=position)
        session = await audio.queue.set_session(guild_id=state.guild_id, position_ms=position)
        await audio.publish_ui(state, "update", view=replace(view, session=session))
        log.info("player_restored", position_ms=position)
        return None

    async def _read_since_start(self, session: QueueSession, entry: QueueEntry) -> QueueSession:
        """The session with a position reading: with none since the track started (it died
        before the first ``playerUpdate``), the start of its open PlaybackHistory row."""
        if session.position_at is not None or session.paused:
            return session
        record = await self.audio.history.last(guild_id=session.guild_id)
        if record is None or record.ended_at is not None:
            return session
        if record.identifier != entry.track.identifier:
            return session
        return replace(session, position_at=record.started_at)

    async def _take_over(
        self, state: GuildState, view: View, *, node: str, old_session: str, old: OldPlayer
    ) -> None:
        """Join with the old player's voice, delete it, play from where it was."""
        audio = self.audio
        session, entry = view.session, view.current
        assert self.takeover is not None
        assert session is not None
        assert entry is not None
        assert session.voice_channel_id is not None
        read_at = time.monotonic()
        connecting = asyncio.create_task(audio.connect(state, session.voice_channel_id))
        voice = old.voice or {}
        if voice.get("token") and voice.get("endpoint") and voice.get("sessionId"):
            # the player appears inside connect() (no event to wait on); raw voice events
            # for a guild without one would be ignored
            while not audio.players.holds(state.guild_id) and not connecting.done():  # noqa: ASYNC110
                await asyncio.sleep(0.005)
            channel = str(voice.get("channelId") or session.voice_channel_id)
            await audio.players.voice_state(
                {
                    "guild_id": str(state.guild_id),
                    "user_id": str(audio.bot_user_id),
                    "session_id": str(voice["sessionId"]),
                    "channel_id": channel,
                }
            )
            await audio.players.voice_server(
                {
                    "guild_id": str(state.guild_id),
                    "token": str(voice["token"]),
                    "endpoint": str(voice["endpoint"]),
                }
            )
        await connecting
        removed = await self.takeover.remove(node, old_session, state.guild_id)
        if old.encoded == entry.track.encoded:
            elapsed = 0 if old.paused else int((time.monotonic() - read_at) * 1000)
            position = old.position_ms + elapsed
            playing = replace(session, paused=old.paused)
        else:
            position = resume_position(session, entry, utc_now())
            playing = session
        await audio.start_entry(state, entry, playing, start_ms=position)
        await audio.publish_ui(state, "update", view=view)
        _log.info(
            "player_taken_over",
            guild_id=state.guild_id,
            old_session=old_session,
            removed=removed,
            position_ms=position,
        )

    async def close(self) -> None:
        tasks = [*self._drains, *self._later]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        while self._waiting:  # never started: their commands must not wait for ever
            self._done(self._waiting.popleft()[0])
