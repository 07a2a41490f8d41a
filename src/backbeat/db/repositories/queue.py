"""The queue repository: every queue change a music command makes, one transaction each.

Each mutating operation starts by locking the guild's ``queues`` row (``SELECT … FOR
UPDATE`` on PostgreSQL and MariaDB; SQLite's ``BEGIN IMMEDIATE`` holds the database write
lock already), creating the row on first use. All changes of one guild's queue are
therefore serialised across processes. Reads take a shared lock on the same row, so a page
and its total always agree.

Stored positions are contiguous, ``first_position .. first_position + item_count - 1``, but
the range may start at any integer (negative too). That lets every insert or removal
renumber whichever side of the point is shorter with one set-based ``UPDATE``: ``/playnext``
on a long queue moves the current and the (bounded) played items down by one instead of
every upcoming item up by one, and trimming played items only deletes rows. The cursor and
the item count on the queue row, and every position the repository returns, are indexes
relative to ``first_position`` (0 = the first item kept).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Final, cast

from sqlalchemy import (
    BigInteger,
    Boolean,
    ColumnElement,
    Row,
    Select,
    Table,
    any_,
    bindparam,
    case,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.orm import aliased

from backbeat.db.models import Queue, QueueItem
from backbeat.db.repositories.tracks import check_track
from backbeat.db.transactions import transact
from backbeat.db.types import utc_now
from backbeat.domain.queue import (
    ClearScope,
    LoopMode,
    NewQueueItem,
    QueueEntry,
    QueuePage,
    QueueSession,
    QueueTrack,
)


class _Unset:
    """Marks a session field the caller did not pass (``None`` is a value: clear it)."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = _Unset()

_QUEUES = Queue.__table__
_ITEMS = QueueItem.__table__
_ITEMS_TABLE = cast(Table, _ITEMS)


@dataclass
class _Cursor:
    """The locked queue row's bookkeeping, written back at the end of an operation.

    ``first`` is the stored position of the first item; ``cursor`` and ``length`` count
    from it, so item ``index`` is stored at position ``first + index``.
    """

    queue_id: int
    first: int
    cursor: int
    length: int
    loop_mode: LoopMode

    @property
    def start(self) -> int:
        """Index of the first upcoming item (the current one is before it, if any)."""
        return min(self.cursor + 1, self.length)

    @property
    def upcoming(self) -> int:
        return self.length - self.start

    def stored(self, index: int) -> int:
        """The stored position of the item at ``index``."""
        return self.first + index


def _track_values(item: NewQueueItem) -> dict[str, Any]:
    track = item.track
    check_track(track)
    return {
        "encoded": track.encoded,
        "identifier": track.identifier,
        "title": track.title,
        "author": track.author,
        "length_ms": track.length_ms,
        "is_stream": track.is_stream,
        "uri": track.uri,
        "source_name": track.source_name,
        "artwork_url": track.artwork_url,
        "extra": dict(track.extra),
        "requester_id": item.requester_id,
        "is_autoplay": item.is_autoplay,
    }


def _entry(row: Row[Any], state: _Cursor) -> QueueEntry:
    index = row.position - state.first
    return _entry_of(row._mapping, index, current=index == state.cursor)


def _entry_of(fields: Mapping[Any, Any], index: int, *, current: bool) -> QueueEntry:
    """A ``queue_items`` row's columns (by name) as the entry at ``index``."""
    return QueueEntry(
        item_id=fields["id"],
        position=index,
        track=QueueTrack(
            encoded=fields["encoded"],
            identifier=fields["identifier"],
            title=fields["title"],
            author=fields["author"],
            length_ms=fields["length_ms"],
            is_stream=bool(fields["is_stream"]),
            uri=fields["uri"],
            source_name=fields["source_name"],
            artwork_url=fields["artwork_url"],
            extra=fields["extra"] or {},
        ),
        requester_id=fields["requester_id"],
        is_autoplay=bool(fields["is_autoplay"]),
        added_at=fields["added_at"],
        is_current=current,
    )


def _session(row: Row[Any]) -> QueueSession:
    return QueueSession(
        guild_id=row.guild_id,
        cursor=row.cursor_position,
        length=row.item_count,
        voice_channel_id=row.voice_channel_id,
        text_channel_id=row.text_channel_id,
        announce_channel_id=row.announce_channel_id,
        now_playing_message_id=row.now_playing_message_id,
        loop_mode=LoopMode(row.loop_mode),
        volume=row.volume,
        paused=bool(row.paused),
        position_ms=row.position_ms,
        filters=row.filters or {},
        node_name=row.node_name,
        lavalink_session_id=row.lavalink_session_id,
        updated_at=row.updated_at,
        position_at=row.position_at,
        idle_leave_at=row.idle_leave_at,
        alone_pause_at=row.alone_pause_at,
        alone_leave_at=row.alone_leave_at,
    )


_STATE_COLUMNS: Final = (
    Queue.id,
    Queue.first_position,
    Queue.cursor_position,
    Queue.item_count,
    Queue.loop_mode,
)


def _state(row: Row[Any]) -> _Cursor:
    return _Cursor(
        row.id, row.first_position, row.cursor_position, row.item_count, LoopMode(row.loop_mode)
    )


async def _lock(conn: AsyncConnection, guild_id: int) -> _Cursor:
    """Lock the guild's queue row for this transaction, creating it on first use."""
    row = (
        await conn.execute(
            select(*_STATE_COLUMNS).where(Queue.guild_id == guild_id).with_for_update()
        )
    ).one_or_none()
    if row is not None:
        return _state(row)
    now = utc_now()
    result = await conn.execute(
        insert(Queue).values(
            guild_id=guild_id,
            first_position=0,
            cursor_position=0,
            item_count=0,
            created_at=now,
            updated_at=now,
        )
    )
    queue_id = result.inserted_primary_key[0] if result.inserted_primary_key else None
    if queue_id is None:  # pragma: no cover - every supported driver reports the key
        queue_id = (
            await conn.execute(select(Queue.id).where(Queue.guild_id == guild_id))
        ).scalar_one()
    return _Cursor(int(queue_id), 0, 0, 0, LoopMode.OFF)


async def _read(conn: AsyncConnection, guild_id: int) -> _Cursor | None:
    """The queue row under a shared lock (writers wait until this read transaction ends)."""
    row = (
        await conn.execute(
            select(*_STATE_COLUMNS).where(Queue.guild_id == guild_id).with_for_update(read=True)
        )
    ).one_or_none()
    return None if row is None else _state(row)


async def _save(conn: AsyncConnection, state: _Cursor, **extra: Any) -> None:
    if state.length == 0:
        state.first = 0  # an empty queue starts over at 0, so positions never drift far
    await conn.execute(
        update(Queue)
        .where(Queue.id == state.queue_id)
        .values(
            first_position=state.first,
            cursor_position=state.cursor,
            item_count=state.length,
            updated_at=utc_now(),
            **extra,
        )
    )


async def _item_at(conn: AsyncConnection, state: _Cursor, index: int) -> Row[Any] | None:
    return (
        await conn.execute(
            select(_ITEMS).where(
                QueueItem.queue_id == state.queue_id, QueueItem.position == state.stored(index)
            )
        )
    ).one_or_none()


def _between(state: _Cursor, low: int, high: int) -> tuple[ColumnElement[bool], ...]:
    """The items at indexes ``[low, high)``, as a bounded range of stored positions (the
    index on ``(queue_id, position)`` then never walks entries outside the queue's range)."""
    return (
        QueueItem.queue_id == state.queue_id,
        QueueItem.position >= state.stored(low),
        QueueItem.position < state.stored(high),
    )


async def _shift(conn: AsyncConnection, state: _Cursor, low: int, high: int, by: int) -> None:
    """Add ``by`` to the stored positions of the items at indexes ``[low, high)``."""
    if low >= high:
        return
    await conn.execute(
        update(QueueItem)
        .where(*_between(state, low, high))
        .values(position=QueueItem.position + by)
    )


async def _open_gap(conn: AsyncConnection, state: _Cursor, index: int, count: int) -> None:
    """Make room for ``count`` items at ``index``, moving the shorter side outwards.

    Before ``index`` are ``index`` items, from it on ``length - index``: the first side
    moves down by ``count`` (and ``first`` with it), or the second side moves up. Either
    way the new items then belong at ``first + index ..``.
    """
    if index < state.length - index:
        await _shift(conn, state, 0, index, -count)
        state.first -= count
    else:
        await _shift(conn, state, index, state.length, count)
    state.length += count


async def _close_gap(conn: AsyncConnection, state: _Cursor, index: int) -> None:
    """Close the hole a deleted item at ``index`` left, moving the shorter side inwards."""
    if index < state.length - index - 1:
        await _shift(conn, state, 0, index, 1)
        state.first += 1
    else:
        await _shift(conn, state, index + 1, state.length, -1)
    state.length -= 1


async def _insert(
    conn: AsyncConnection, state: _Cursor, index: int, items: Sequence[NewQueueItem]
) -> list[QueueEntry]:
    """Insert items at ``index`` (making room on the shorter side) and return them as stored.

    Callers insert after the cursor (or at an ended queue's cursor), so the cursor's index
    never changes.
    """
    if not items:
        return []
    await _open_gap(conn, state, index, len(items))
    low = state.stored(index)
    now = utc_now()
    rows = [
        {"queue_id": state.queue_id, "position": low + offset, "added_at": now}
        | _track_values(item)
        for offset, item in enumerate(items)
    ]
    if len(rows) == 1:
        result = await conn.execute(insert(QueueItem).values(rows[0]))
        item_id = int(result.inserted_primary_key[0])  # type: ignore[index]
        return [_entry_from_values(item_id, rows[0], state)]
    await conn.execute(insert(QueueItem), rows)
    stored = await conn.execute(
        select(_ITEMS)
        .where(
            QueueItem.queue_id == state.queue_id,
            QueueItem.position >= low,
            QueueItem.position < low + len(items),
        )
        .order_by(QueueItem.position)
    )
    return [_entry(row, state) for row in stored]


def _entry_from_values(item_id: int, values: dict[str, Any], state: _Cursor) -> QueueEntry:
    added_at: datetime = values["added_at"]
    index = values["position"] - state.first
    return QueueEntry(
        item_id=item_id,
        position=index,
        track=QueueTrack(
            encoded=values["encoded"],
            identifier=values["identifier"],
            title=values["title"],
            author=values["author"],
            length_ms=values["length_ms"],
            is_stream=values["is_stream"],
            uri=values["uri"],
            source_name=values["source_name"],
            artwork_url=values["artwork_url"],
            extra=values["extra"],
        ),
        requester_id=values["requester_id"],
        is_autoplay=values["is_autoplay"],
        added_at=added_at,
        is_current=index == state.cursor,
    )


async def _remove_at(conn: AsyncConnection, state: _Cursor, row: Row[Any]) -> QueueEntry:
    """Delete one item row and close the gap; the cursor keeps pointing at the same item
    (at the next one if the current item itself is removed)."""
    removed = _entry(row, state)
    await conn.execute(delete(QueueItem).where(QueueItem.id == row.id))
    await _close_gap(conn, state, removed.position)
    if removed.position < state.cursor:
        state.cursor -= 1
    return removed


def session_changes(**given: Any) -> dict[str, Any]:
    """The ``queues`` columns :meth:`QueueRepository.set_session` writes for its keyword
    arguments (``UNSET`` ones left out), checked: a ``position_ms`` without ``position_at``
    is read now, a loop mode is stored by its value, a volume must be within 0..1000."""
    changes = {name: value for name, value in given.items() if not isinstance(value, _Unset)}
    if isinstance(changes.get("position_ms"), int) and "position_at" not in changes:
        changes["position_at"] = utc_now()
    if "loop_mode" in changes:
        changes["loop_mode"] = LoopMode(changes["loop_mode"]).value
    volume = changes.get("volume")
    if isinstance(volume, int) and not 0 <= volume <= 1000:
        raise ValueError("volume must be within 0..1000")
    return changes


def with_changes(session: QueueSession, changes: Mapping[str, Any]) -> QueueSession:
    """``session`` as it reads once ``changes`` (from :func:`session_changes`) are written."""
    fields = dict(changes)
    if "loop_mode" in fields:
        fields["loop_mode"] = LoopMode(fields["loop_mode"])
    return replace(session, **fields, updated_at=utc_now())


def _write_statement(columns: tuple[str, ...]) -> Any:
    """``UPDATE queues`` of one guild's session: each of ``columns`` set to its value where
    the row's flag says it changed, else kept (one statement for guilds that changed
    different columns, executed with many parameter sets)."""
    table = cast(Table, _QUEUES)
    values: dict[str, Any] = {
        name: case(
            (
                bindparam(f"s_{name}", type_=Boolean()),
                bindparam(f"v_{name}", type_=table.c[name].type),
            ),
            else_=table.c[name],
        )
        for name in columns
    }
    values["first_position"] = case((table.c.item_count == 0, 0), else_=table.c.first_position)
    values["updated_at"] = bindparam("v_updated_at", type_=table.c.updated_at.type)
    return update(table).where(table.c.guild_id == bindparam("g_guild_id")).values(values)


#: The bulk session writes, by the columns they may set (built once each).
_WRITES: dict[tuple[str, ...], Any] = {}


@dataclass(frozen=True, slots=True)
class SessionView:
    """A guild's session, its current item and the length of what comes after it (ms):
    what a now-playing snapshot shows, read for many guilds at once."""

    session: QueueSession
    current: QueueEntry | None
    upcoming_ms: int


def _views_statement(dialect: str, lock: bool) -> Select[Any]:
    """Sessions with their current item and upcoming length, for ``guild_ids`` (one
    statement; ``lock``: the queue rows locked, in guild order)."""
    current = aliased(QueueItem, name="current_item")
    later = aliased(QueueItem, name="later_item")
    cursor_at = Queue.first_position + Queue.cursor_position
    upcoming_ms = (
        select(func.coalesce(func.sum(later.length_ms), 0))
        .where(later.queue_id == Queue.id, later.position > cursor_at)
        .scalar_subquery()
    )
    item_columns = [getattr(current, c.key).label(f"item_{c.key}") for c in _ITEMS_TABLE.c]
    guilds = (
        Queue.guild_id == any_(bindparam("guild_ids", type_=postgresql.ARRAY(BigInteger())))
        if dialect == "postgresql"  # one statement text for any number of guilds
        else Queue.guild_id.in_(bindparam("guild_ids", expanding=True))
    )
    statement = (
        select(*_QUEUES.c, *item_columns, upcoming_ms.label("upcoming_ms"))
        .select_from(Queue)
        .outerjoin(current, (current.queue_id == Queue.id) & (current.position == cursor_at))
        .where(guilds)
        .order_by(Queue.guild_id)
    )
    if lock:
        # PostgreSQL locks the queue rows only (never the outer join's nullable side)
        statement = statement.with_for_update(of=Queue if dialect == "postgresql" else None)
    return statement


_ITEM_NAMES: Final = tuple(c.key for c in _ITEMS_TABLE.c)

#: The views statements, by dialect and whether they lock (each built once).
_VIEWS: dict[tuple[str, bool], Select[Any]] = {}


def _view(row: Row[Any]) -> SessionView:
    current: QueueEntry | None = None
    if row.item_id is not None:
        item = {name: row._mapping[f"item_{name}"] for name in _ITEM_NAMES}
        current = _entry_of(item, row.cursor_position, current=True)
    return SessionView(_session(row), current, int(row.upcoming_ms or 0))


class QueueRepository:
    """Queue operations for the music commands, on an engine passed in.

    Upcoming items are addressed by *index* (0 = the item that plays next), resolved inside
    the transaction. ``keep_played`` bounds how many played items stay before the cursor
    (for ``previous``) when the queue does not loop; ``None`` keeps them all.
    """

    def __init__(self, engine: AsyncEngine, *, keep_played: int | None = 100) -> None:
        self._engine = engine
        self._keep_played = keep_played

    # --- adding ------------------------------------------------------------------------------

    async def append(
        self, *, guild_id: int, item: NewQueueItem, conn: AsyncConnection | None = None
    ) -> QueueEntry:
        """Add one item at the end; it becomes current if the queue had ended."""
        entries = await self.append_many(guild_id=guild_id, items=[item], conn=conn)
        return entries[0]

    async def append_many(
        self,
        *,
        guild_id: int,
        items: Sequence[NewQueueItem],
        conn: AsyncConnection | None = None,
    ) -> list[QueueEntry]:
        """Add items at the end, in order (a playlist)."""

        async def work(conn: AsyncConnection) -> list[QueueEntry]:
            state = await _lock(conn, guild_id)
            entries = await _insert(conn, state, state.length, items)
            await _save(conn, state)
            return entries

        return await transact(self._engine, "queue.append", work, retry_integrity=True, conn=conn)

    async def insert_next(
        self,
        *,
        guild_id: int,
        items: Sequence[NewQueueItem],
        conn: AsyncConnection | None = None,
    ) -> list[QueueEntry]:
        """Add items right after the current one (``/playnext``)."""
        return await self.insert_at(guild_id=guild_id, index=0, items=items, conn=conn)

    async def insert_at(
        self,
        *,
        guild_id: int,
        index: int,
        items: Sequence[NewQueueItem],
        conn: AsyncConnection | None = None,
    ) -> list[QueueEntry]:
        """Add items before the upcoming item at ``index`` (clamped to 0..upcoming count)."""

        async def work(conn: AsyncConnection) -> list[QueueEntry]:
            state = await _lock(conn, guild_id)
            at = state.start + min(max(index, 0), state.upcoming)
            entries = await _insert(conn, state, at, items)
            await _save(conn, state)
            return entries

        return await transact(self._engine, "queue.insert", work, retry_integrity=True, conn=conn)

    # --- removing and reordering -----------------------------------------------------------

    async def remove(
        self, *, guild_id: int, index: int, conn: AsyncConnection | None = None
    ) -> QueueEntry | None:
        """Remove the upcoming item at ``index``; None if there is none there."""

        async def work(conn: AsyncConnection) -> QueueEntry | None:
            state = await _lock(conn, guild_id)
            if not 0 <= index < state.upcoming:
                return None
            row = await _item_at(conn, state, state.start + index)
            if row is None:  # pragma: no cover - positions are contiguous under the lock
                return None
            removed = await _remove_at(conn, state, row)
            await _save(conn, state)
            return removed

        return await transact(self._engine, "queue.remove", work, retry_integrity=True, conn=conn)

    async def remove_item(
        self, *, guild_id: int, item_id: int, conn: AsyncConnection | None = None
    ) -> QueueEntry | None:
        """Remove an item by id wherever it stands (removing the current one makes the next
        one current); None if the guild's queue has no such item."""

        async def work(conn: AsyncConnection) -> QueueEntry | None:
            state = await _lock(conn, guild_id)
            row = (
                await conn.execute(
                    select(_ITEMS).where(
                        QueueItem.queue_id == state.queue_id, QueueItem.id == item_id
                    )
                )
            ).one_or_none()
            if row is None:
                return None
            removed = await _remove_at(conn, state, row)
            await _save(conn, state)
            return removed

        return await transact(self._engine, "queue.remove", work, retry_integrity=True, conn=conn)

    async def move(
        self, *, guild_id: int, from_index: int, to_index: int, conn: AsyncConnection | None = None
    ) -> QueueEntry | None:
        """Move an upcoming item to another upcoming index; None if either is out of range."""

        async def work(conn: AsyncConnection) -> QueueEntry | None:
            state = await _lock(conn, guild_id)
            if not (0 <= from_index < state.upcoming and 0 <= to_index < state.upcoming):
                return None
            source, target = state.start + from_index, state.start + to_index
            row = await _item_at(conn, state, source)
            if row is None:  # pragma: no cover - positions are contiguous under the lock
                return None
            if source < target:
                await _shift(conn, state, source + 1, target + 1, -1)
            elif source > target:
                await _shift(conn, state, target, source, 1)
            await conn.execute(
                update(QueueItem)
                .where(QueueItem.id == row.id)
                .values(position=state.stored(target))
            )
            await _save(conn, state)
            moved = await _item_at(conn, state, target)
            return None if moved is None else _entry(moved, state)

        return await transact(self._engine, "queue.move", work, retry_integrity=True, conn=conn)

    async def shuffle(
        self,
        *,
        guild_id: int,
        rng: random.Random | None = None,
        conn: AsyncConnection | None = None,
    ) -> int:
        """Shuffle the upcoming items (the current and played ones stay); returns how many."""
        chooser = rng or random.Random()

        async def work(conn: AsyncConnection) -> int:
            state = await _lock(conn, guild_id)
            ids = list(
                (
                    await conn.execute(
                        select(QueueItem.id)
                        .where(*_between(state, state.start, state.length))
                        .order_by(QueueItem.position)
                    )
                ).scalars()
            )
            if len(ids) > 1:
                order = ids[:]
                chooser.shuffle(order)
                await conn.execute(
                    update(_ITEMS_TABLE)
                    .where(_ITEMS_TABLE.c.id == bindparam("item_id"))
                    .values(position=bindparam("new_position")),
                    [
                        {"item_id": item_id, "new_position": state.stored(state.start + offset)}
                        for offset, item_id in enumerate(order)
                    ],
                )
            await _save(conn, state)
            return len(ids)

        return await transact(self._engine, "queue.shuffle", work, retry_integrity=True, conn=conn)

    async def clear(
        self,
        *,
        guild_id: int,
        scope: ClearScope = ClearScope.UPCOMING,
        conn: AsyncConnection | None = None,
    ) -> int:
        """Remove the upcoming items, or every item; returns how many were removed."""

        async def work(conn: AsyncConnection) -> int:
            state = await _lock(conn, guild_id)
            low = state.start if scope is ClearScope.UPCOMING else 0
            removed = state.length - low
            await conn.execute(delete(QueueItem).where(*_between(state, low, state.length)))
            state.length = low
            if scope is ClearScope.ALL:
                state.cursor = 0
            await _save(conn, state)
            return removed

        return await transact(self._engine, "queue.clear", work, retry_integrity=True, conn=conn)

    # --- playing order -----------------------------------------------------------------------

    async def advance(
        self,
        *,
        guild_id: int,
        loop_mode: LoopMode | None = None,
        conn: AsyncConnection | None = None,
    ) -> QueueEntry | None:
        """Move to the next item when a track ends and return the new current one.

        ``loop_mode`` overrides the session's mode for this call (a ``/skip`` under track
        looping passes ``LoopMode.OFF``). Off: the next item, None once the queue ended.
        Track: the same item again. Queue: the next item, wrapping to the first.
        """

        async def work(conn: AsyncConnection) -> QueueEntry | None:
            state = await _lock(conn, guild_id)
            mode = loop_mode or state.loop_mode
            if state.length == 0:
                return None
            if mode is LoopMode.TRACK and state.cursor < state.length:
                pass
            elif mode is LoopMode.QUEUE:
                state.cursor = (state.cursor + 1) % state.length
            else:
                state.cursor = min(state.cursor + 1, state.length)
                await self._trim_played(conn, state)
            await _save(conn, state, position_ms=0, position_at=None)
            row = await _item_at(conn, state, state.cursor)
            return None if row is None else _entry(row, state)

        return await transact(self._engine, "queue.advance", work, retry_integrity=True, conn=conn)

    async def previous(
        self, *, guild_id: int, conn: AsyncConnection | None = None
    ) -> QueueEntry | None:
        """Step back to the previous item and return it; None (nothing changed) if there is
        none (under queue looping the first item's previous is the last)."""

        async def work(conn: AsyncConnection) -> QueueEntry | None:
            state = await _lock(conn, guild_id)
            if state.length == 0:
                return None
            if state.cursor > 0:
                state.cursor -= 1
            elif state.loop_mode is LoopMode.QUEUE:
                state.cursor = state.length - 1
            else:
                return None
            await _save(conn, state, position_ms=0, position_at=None)
            row = await _item_at(conn, state, state.cursor)
            return None if row is None else _entry(row, state)

        return await transact(self._engine, "queue.previous", work, retry_integrity=True, conn=conn)

    async def skip_to(
        self, *, guild_id: int, index: int, conn: AsyncConnection | None = None
    ) -> QueueEntry | None:
        """Make the upcoming item at ``index`` current (the ones before it count as played)."""

        async def work(conn: AsyncConnection) -> QueueEntry | None:
            state = await _lock(conn, guild_id)
            if not 0 <= index < state.upcoming:
                return None
            state.cursor = state.start + index
            if state.loop_mode is not LoopMode.QUEUE:
                await self._trim_played(conn, state)
            await _save(conn, state, position_ms=0, position_at=None)
            row = await _item_at(conn, state, state.cursor)
            return None if row is None else _entry(row, state)

        return await transact(self._engine, "queue.skip_to", work, retry_integrity=True, conn=conn)

    async def _trim_played(self, conn: AsyncConnection, state: _Cursor) -> None:
        if self._keep_played is None or state.cursor <= self._keep_played:
            return
        drop = state.cursor - self._keep_played
        await conn.execute(delete(QueueItem).where(*_between(state, 0, drop)))
        state.first += drop  # the kept items keep their stored positions
        state.cursor -= drop
        state.length -= drop

    # --- reading -------------------------------------------------------------------------------

    async def current(
        self, *, guild_id: int, conn: AsyncConnection | None = None
    ) -> QueueEntry | None:
        """The item at the cursor, None when the queue is empty or has ended."""

        async def work(conn: AsyncConnection) -> QueueEntry | None:
            state = await _read(conn, guild_id)
            if state is None:
                return None
            row = await _item_at(conn, state, state.cursor)
            return None if row is None else _entry(row, state)

        return await transact(self._engine, "queue.current", work, read_only=True, conn=conn)

    async def page(
        self,
        *,
        guild_id: int,
        offset: int = 0,
        limit: int = 10,
        conn: AsyncConnection | None = None,
    ) -> QueuePage:
        """Upcoming items ``offset``..``offset+limit`` with their total and the current item."""
        if offset < 0 or limit < 0:
            raise ValueError("offset and limit must not be negative")

        async def work(conn: AsyncConnection) -> QueuePage:
            state = await _read(conn, guild_id)
            if state is None:
                return QueuePage(items=(), total=0, offset=offset, limit=limit, current=None)
            low = state.cursor if state.cursor < state.length else state.length
            rows = await conn.execute(
                select(_ITEMS)
                .where(
                    QueueItem.queue_id == state.queue_id,
                    QueueItem.position >= state.stored(low),
                    QueueItem.position < state.stored(state.start + offset + limit),
                    (QueueItem.position == state.stored(state.cursor))
                    | (QueueItem.position >= state.stored(state.start + offset)),
                )
                .order_by(QueueItem.position)
            )
            entries = [_entry(row, state) for row in rows]
            current = next((entry for entry in entries if entry.is_current), None)
            items = tuple(entry for entry in entries if not entry.is_current)
            return QueuePage(
                items=items, total=state.upcoming, offset=offset, limit=limit, current=current
            )

        return await transact(self._engine, "queue.page", work, read_only=True, conn=conn)

    async def items(
        self, *, guild_id: int, conn: AsyncConnection | None = None
    ) -> list[QueueEntry]:
        """Every item kept, played ones included, in position order (for restore and checks)."""

        async def work(conn: AsyncConnection) -> list[QueueEntry]:
            state = await _read(conn, guild_id)
            if state is None:
                return []
            rows = await conn.execute(
                select(_ITEMS)
                .where(QueueItem.queue_id == state.queue_id)
                .order_by(QueueItem.position, QueueItem.id)
            )
            return [_entry(row, state) for row in rows]

        return await transact(self._engine, "queue.items", work, read_only=True, conn=conn)

    # --- the session ---------------------------------------------------------------------------

    async def session(
        self, *, guild_id: int, conn: AsyncConnection | None = None
    ) -> QueueSession | None:
        """The guild's session state, None if it has none."""

        async def work(conn: AsyncConnection) -> QueueSession | None:
            row = (
                await conn.execute(select(_QUEUES).where(Queue.guild_id == guild_id))
            ).one_or_none()
            return None if row is None else _session(row)

        return await transact(self._engine, "queue.session", work, read_only=True, conn=conn)

    async def views(
        self, *, guild_ids: Iterable[int], lock: bool = False, conn: AsyncConnection | None = None
    ) -> dict[int, SessionView]:
        """For each of ``guild_ids`` that has a session: the session, its current item and
        the upcoming length, all in one statement (a batch's snapshots). ``lock``: lock the
        guilds' queue rows for the transaction, in guild order."""
        wanted = sorted(set(guild_ids))

        async def work(conn: AsyncConnection) -> dict[int, SessionView]:
            if not wanted:
                return {}
            key = (conn.dialect.name, lock)
            statement = _VIEWS.get(key)
            if statement is None:
                statement = _VIEWS[key] = _views_statement(*key)
            rows = await conn.execute(statement, {"guild_ids": wanted})
            return {row.guild_id: _view(row) for row in rows}

        return await transact(self._engine, "queue.views", work, read_only=True, conn=conn)

    async def sessions(
        self,
        *,
        partition: int | None = None,
        partitions: int | None = None,
        conn: AsyncConnection | None = None,
    ) -> list[QueueSession]:
        """Every session (or those with ``guild_id % partitions == partition``), by guild id:
        what a worker restores when it takes over partitions."""
        if (partition is None) != (partitions is None):
            raise ValueError("give both partition and partitions, or neither")

        async def work(conn: AsyncConnection) -> list[QueueSession]:
            statement = select(_QUEUES).order_by(Queue.guild_id)
            if partitions is not None:
                statement = statement.where(Queue.guild_id % partitions == partition)
            return [_session(row) for row in await conn.execute(statement)]

        return await transact(self._engine, "queue.sessions", work, read_only=True, conn=conn)

    async def set_session(
        self,
        *,
        guild_id: int,
        voice_channel_id: int | _Unset | None = UNSET,
        text_channel_id: int | _Unset | None = UNSET,
        announce_channel_id: int | _Unset | None = UNSET,
        now_playing_message_id: int | _Unset | None = UNSET,
        loop_mode: LoopMode | _Unset = UNSET,
        volume: int | _Unset = UNSET,
        paused: bool | _Unset = UNSET,
        position_ms: int | _Unset = UNSET,
        position_at: datetime | _Unset | None = UNSET,
        filters: dict[str, Any] | _Unset = UNSET,
        node_name: str | _Unset | None = UNSET,
        lavalink_session_id: str | _Unset | None = UNSET,
        idle_leave_at: datetime | _Unset | None = UNSET,
        alone_pause_at: datetime | _Unset | None = UNSET,
        alone_leave_at: datetime | _Unset | None = UNSET,
        conn: AsyncConnection | None = None,
    ) -> QueueSession:
        """Set the given session fields (None clears an id or a deadline) and return the
        whole session.

        ``position_at`` is when ``position_ms`` was read; given ``position_ms`` without it,
        it is now. A track change (``advance``, ``previous``, ``skip_to``) resets both.
        """
        changes = session_changes(
            voice_channel_id=voice_channel_id,
            text_channel_id=text_channel_id,
            announce_channel_id=announce_channel_id,
            now_playing_message_id=now_playing_message_id,
            loop_mode=loop_mode,
            volume=volume,
            paused=paused,
            position_ms=position_ms,
            position_at=position_at,
            filters=filters,
            node_name=node_name,
            lavalink_session_id=lavalink_session_id,
            idle_leave_at=idle_leave_at,
            alone_pause_at=alone_pause_at,
            alone_leave_at=alone_leave_at,
        )

        async def work(conn: AsyncConnection) -> QueueSession:
            if conn.dialect.name == "postgresql":  # one statement when the row exists
                updated = (
                    await conn.execute(
                        update(Queue)
                        .where(Queue.guild_id == guild_id)
                        .values(
                            first_position=case(
                                (Queue.item_count == 0, 0), else_=Queue.first_position
                            ),
                            updated_at=utc_now(),
                            **changes,
                        )
                        .returning(*_QUEUES.c)
                    )
                ).one_or_none()
                if updated is not None:
                    return _session(updated)
            state = await _lock(conn, guild_id)
            await _save(conn, state, **changes)
            row = (await conn.execute(select(_QUEUES).where(Queue.id == state.queue_id))).one()
            return _session(row)

        return await transact(
            self._engine, "queue.set_session", work, retry_integrity=True, conn=conn
        )

    async def write_sessions(
        self, *, changes: Mapping[int, Mapping[str, Any]], conn: AsyncConnection
    ) -> None:
        """Write each guild's session ``changes`` (from :func:`session_changes`) to its
        existing row, in the caller's transaction: one statement executed for all the
        guilds, in guild order (row locks taken in the order every batch takes them)."""
        if not changes:
            return
        columns = tuple(sorted({name for values in changes.values() for name in values}))
        statement = _WRITES.get(columns)
        if statement is None:
            statement = _WRITES[columns] = _write_statement(columns)
        now = utc_now()
        rows = []
        for guild_id in sorted(changes):
            values = changes[guild_id]
            row: dict[str, Any] = {"g_guild_id": guild_id, "v_updated_at": now}
            for name in columns:
                row[f"s_{name}"] = name in values
                row[f"v_{name}"] = values.get(name)
            rows.append(row)
        await conn.execute(statement, rows)

    async def delete_session(self, *, guild_id: int, conn: AsyncConnection | None = None) -> bool:
        """Forget the guild's session and every item (the bot left); False if there was none."""

        async def work(conn: AsyncConnection) -> bool:
            row = (
                await conn.execute(
                    select(Queue.id).where(Queue.guild_id == guild_id).with_for_update()
                )
            ).one_or_none()
            if row is None:
                return False
            await conn.execute(delete(QueueItem).where(QueueItem.queue_id == row.id))
            await conn.execute(delete(Queue).where(Queue.id == row.id))
            return True

        return await transact(self._engine, "queue.delete_session", work, conn=conn)

    async def count(
        self,
        *,
        guild_ids: Iterable[int] | None = None,
        owned: Iterable[int] | None = None,
        partitions: int | None = None,
        conn: AsyncConnection | None = None,
    ) -> int:
        """How many items wait (upcoming) over the given guilds, or over the guilds of the
        ``owned`` partitions (``guild_id % partitions``: one short ``IN``, for ``queue_size``),
        or all."""
        if (owned is None) != (partitions is None):
            raise ValueError("give both owned and partitions, or neither")

        async def work(conn: AsyncConnection) -> int:
            upcoming = func.greatest if conn.dialect.name != "sqlite" else func.max
            statement = select(
                func.coalesce(
                    func.sum(upcoming(Queue.item_count - Queue.cursor_position - 1, 0)), 0
                )
            )
            if guild_ids is not None:
                statement = statement.where(Queue.guild_id.in_(list(guild_ids)))
            if owned is not None and partitions is not None:
                statement = statement.where((Queue.guild_id % partitions).in_(sorted(owned)))
            return int((await conn.execute(statement)).scalar_one())

        return await transact(self._engine, "queue.count", work, read_only=True, conn=conn)
