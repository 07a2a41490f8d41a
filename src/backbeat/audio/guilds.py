"""What the processor keeps in memory per guild, next to the SQL session.

Everything here may be lost with the process: the queue and the session live in SQL. The
per-guild lock (in one table for all guilds, :mod:`backbeat.audio.keyed_lock`: a lock
exists only while held or awaited) serialises a guild's commands, player events and timer
actions, so they see each other's committed state in order; voice events never take it (a
handshake waiting under the lock needs them).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from backbeat.audio.keyed_lock import KeyedLocks, KeyLock
from backbeat.domain.guild_settings import GuildSettings
from backbeat.domain.playback_errors import (
    Classification,
    FailurePlan,
    FailureTracker,
    RetryPolicy,
)
from backbeat.domain.queue import QueueEntry


def default_failures() -> FailureTracker:
    return FailureTracker(streak_limit=5, retry=RetryPolicy())


@dataclass(frozen=True, slots=True)
class PendingFailure:
    """A TrackException's verdict, carried out by the TrackEnded(loadFailed) after it."""

    plan: FailurePlan
    classification: Classification
    #: Where the track was when it failed (a retry starts there).
    position_ms: int


@dataclass(eq=False, slots=True)
class GuildState:
    """One guild's in-memory state (slotted: a worker holds thousands)."""

    guild_id: int
    #: Where :attr:`lock` lives: the guilds' one table (a lock exists only while used).
    locks: KeyedLocks[GuildState] = field(default_factory=KeyedLocks, repr=False)
    settings: GuildSettings | None = None
    #: Non-bot members with the bot, from the gateway's ``listener-count`` (None: unknown).
    listeners: int | None = None
    #: Voters of a vote skip (see :attr:`votes`), for the item ``vote_item_id``.
    _votes: set[int] | None = field(default=None, repr=False)
    vote_item_id: int | None = None
    #: The queue item the player was last told to play.
    playing: QueueEntry | None = None
    #: The open PlaybackHistory row of the track playing.
    history_id: int | None = None
    #: Whether a now-playing message exists (a ``create`` was sent and no ``delete`` since).
    ui_shown: bool = False
    #: Playback was paused by the alone timer, not by a user: a returning listener resumes it.
    paused_by_bot: bool = False
    #: When (monotonic) a command last recorded the playing position in SQL.
    position_saved: float = float("-inf")
    #: Why the next voice-leave is sent (``requested``, ``idle``, ``empty``, ``error``).
    leave_reason: str = "requested"
    idle_timer: asyncio.Task[None] | None = None
    alone_timer: asyncio.Task[None] | None = None
    #: Retries and the streak of failed tracks (``backbeat.domain.playback_errors``).
    failures: FailureTracker = field(default_factory=default_failures)
    failure: PendingFailure | None = None
    #: The entry being retried: its PlaybackHistory row stays open across the retry.
    retrying: QueueEntry | None = None
    retry_timer: asyncio.Task[None] | None = None

    @property
    def lock(self) -> KeyLock[GuildState]:
        """The guild's lock (FIFO; keyed by this state, so a state made anew after a
        :meth:`Guilds.drop` has a lock of its own, as before)."""
        return self.locks.of(self)

    def cancel_timers(self) -> None:
        self.cancel_idle()
        self.cancel_alone()
        self.cancel_retry()

    def cancel_retry(self) -> None:
        task = self.retry_timer
        if task is not None and not task.done() and task is not asyncio.current_task():
            task.cancel()
        self.retry_timer = None

    def cancel_idle(self) -> None:
        task = self.idle_timer
        if task is not None and not task.done() and task is not asyncio.current_task():
            task.cancel()
        self.idle_timer = None

    def cancel_alone(self) -> None:
        task = self.alone_timer
        if task is not None and not task.done() and task is not asyncio.current_task():
            task.cancel()
        self.alone_timer = None

    @property
    def votes(self) -> set[int]:
        """Voters of a vote skip: a set made at the first vote (most guilds never vote, and
        an empty set is 216 bytes a guild)."""
        if self._votes is None:
            self._votes = set()
        return self._votes

    def reset_votes(self, item_id: int | None) -> None:
        self._votes = None
        self.vote_item_id = item_id


class Guilds:
    """The guild states of the partitions this worker owns."""

    def __init__(self, failures: Callable[[], FailureTracker] = default_failures) -> None:
        self._states: dict[int, GuildState] = {}
        self._failures = failures
        #: Every guild's lock, present only while held or awaited (~1 KB a guild otherwise).
        self.locks: KeyedLocks[GuildState] = KeyedLocks()

    def get(self, guild_id: int) -> GuildState:
        state = self._states.get(guild_id)
        if state is None:
            state = self._states[guild_id] = GuildState(
                guild_id, locks=self.locks, failures=self._failures()
            )
        return state

    def known(self, guild_id: int) -> GuildState | None:
        return self._states.get(guild_id)

    def __iter__(self) -> Iterator[GuildState]:
        return iter(list(self._states.values()))

    def __len__(self) -> int:
        return len(self._states)

    def drop(self, guild_id: int) -> None:
        state = self._states.pop(guild_id, None)
        if state is not None:
            state.cancel_timers()
