"""A batch's guild sessions: read once, changed in memory, written together before the commit.

The commands that change nothing but session fields (pause, resume, toggle, seek, volume,
filters, loop: :data:`backbeat.audio.handlers.SESSION_ONLY`) make up most of a busy guild's
commands. In a batch every guild's session and current item is read with one statement,
which also locks the guilds' queue rows in guild order (:meth:`BatchSessions.load`); each
such command reads them from memory and *stages* its session change
(:meth:`BatchSessions.stage`), and the staged changes of all guilds are written with one
``UPDATE`` when the batch ends (:meth:`BatchSessions.flush`), in the batch's transaction.
Such a command therefore sends no statement of its own and needs no savepoint: a refusal or
a failure drops what it staged (:meth:`BatchSessions.drop`).

Any other command first writes its guild's staged changes and forgets what was read for
the guild (it reads and writes SQL itself); the guild's next session-only command reads it
again. Every row lock is taken by the first read, so writing late deadlocks with nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from backbeat.db.repositories.queue import QueueRepository, SessionView, with_changes
from backbeat.domain.queue import QueueEntry, QueueSession


class BatchSessions:
    """The sessions of one batch's guilds (see the module docstring)."""

    def __init__(self, queue: QueueRepository) -> None:
        self._queue = queue
        #: As read in the batch's transaction (None: the guild has no session row).
        self._read: dict[int, SessionView | None] = {}
        #: Changes of the commands that ran to the end, by guild, not yet written.
        self._staged: dict[int, dict[str, Any]] = {}
        #: The running command's changes (dropped if it fails or is refused).
        self._pending: dict[int, dict[str, Any]] = {}
        #: Whether the running command may use what was read (a session-only command).
        self._staging = False

    # --- the running command --------------------------------------------------------------

    def begin(self, *, staging: bool) -> None:
        self._pending = {}
        self._staging = staging

    def commit(self) -> None:
        """The running command ran to the end: keep what it staged."""
        for guild_id, changes in self._pending.items():
            self._staged.setdefault(guild_id, {}).update(changes)
        self._pending = {}
        self._staging = False

    def drop(self) -> None:
        """The running command was refused or failed: forget what it staged."""
        self._pending = {}
        self._staging = False

    @property
    def staging(self) -> bool:
        """Whether the running command reads and changes sessions here (not in SQL)."""
        return self._staging

    # --- reading ------------------------------------------------------------------------------

    def load(self, views: Mapping[int, SessionView], guild_ids: Iterable[int]) -> None:
        """Keep what was read for ``guild_ids`` (those missing from ``views`` have no row)."""
        for guild_id in guild_ids:
            self._read[guild_id] = views.get(guild_id)

    async def ensure(self, conn: AsyncConnection, guild_id: int) -> None:
        """Read the guild's session unless it is known."""
        if guild_id not in self._read:
            self.load(await self._queue.views(guild_ids=[guild_id], conn=conn), [guild_id])

    def known(self, guild_id: int) -> bool:
        return guild_id in self._read

    def view(self, guild_id: int) -> SessionView | None:
        """The guild's session with what is staged for it, its current item, its upcoming
        length (a session change moves neither); None when it has no session."""
        read = self._read.get(guild_id)
        if read is None:
            return None
        changes = self._staged.get(guild_id, {}) | self._pending.get(guild_id, {})
        if not changes:
            return read
        return SessionView(with_changes(read.session, changes), read.current, read.upcoming_ms)

    def session(self, guild_id: int) -> QueueSession | None:
        view = self.view(guild_id)
        return None if view is None else view.session

    def current(self, guild_id: int) -> QueueEntry | None:
        view = self.view(guild_id)
        return None if view is None else view.current

    # --- changing --------------------------------------------------------------------------

    def stage(self, guild_id: int, changes: Mapping[str, Any]) -> QueueSession:
        """Stage the running command's ``changes`` (from ``session_changes``) of a guild
        with a session; the session as it reads with them."""
        if self._read.get(guild_id) is None:
            raise ValueError(f"guild {guild_id} has no session read in this batch")
        self._pending.setdefault(guild_id, {}).update(changes)
        session = self.session(guild_id)
        assert session is not None
        return session

    def forget(self, guild_id: int) -> None:
        """What was read for the guild may be stale (SQL was written): read it again."""
        self._read.pop(guild_id, None)

    async def flush(self, conn: AsyncConnection, guild_id: int | None = None) -> None:
        """Write what is staged, in one statement: every guild's (the batch ends), or one
        guild's, whose command is about to work on SQL itself (what was read for the guild
        is forgotten too)."""
        if guild_id is None:
            staged, self._staged = self._staged, {}
        else:
            self.forget(guild_id)
            changes = self._staged.pop(guild_id, None)
            staged = {} if changes is None else {guild_id: changes}
        if staged:
            await self._queue.write_sessions(changes=staged, conn=conn)
