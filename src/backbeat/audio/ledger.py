"""Exactly-once effects: one command (or a batch of them), one SQL transaction, recognised
when redelivered.

The transaction of a state-changing command holds, in this order: the applied-id check (a
message already applied is answered with its stored reply and changes nothing), the
partition's fencing-token check (a worker that lost its lease while stalled cannot commit),
the command's effect on the queue and session, its AuditLog row, its domain events, and the
applied row with the reply. Only after the commit does Lavalink follow and do the snapshot
and the reply go out; the bus acknowledges the message when the handler returns.

A **batch** (:meth:`Ledger.batch`, used by the processor's batch handler) runs many
commands, of many guilds, in one transaction: the fencing tokens of all its partitions are
advanced together, the applied ids of every command are looked up in one query, each
command's work runs under a savepoint (a refusal or a failure rolls back that command only)
— except the work of a *staged* command type, which changes session fields in memory
(:mod:`backbeat.audio.batch_sessions`) and takes a savepoint only if it writes SQL itself —
and the staged session changes, the AuditLog, EventStoreEvent and applied rows are written
together before the commit. While a
batch is open in the current task, :meth:`Ledger.apply` runs the work inside it and
:meth:`Ledger.defer` keeps what follows each commit (Lavalink, snapshot, reply) for the
processor to do after the batch committed.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncTransaction

from backbeat.audio.batch_sessions import BatchSessions
from backbeat.bus.interface import Delivery
from backbeat.bus.keys import AUDIO_POOL
from backbeat.db.repositories.applied import AppliedMessagesRepository
from backbeat.db.repositories.audit import AuditRepository, NewAuditEntry
from backbeat.db.repositories.event_store import EventStoreRepository
from backbeat.db.repositories.fencing import advance_fence, advance_fences
from backbeat.db.repositories.queue import QueueRepository
from backbeat.db.transactions import in_transaction
from backbeat.db.types import utc_now
from backbeat.domain.messages import Channel, Envelope, decode
from backbeat.domain.messages.commands import CommandEnvelope
from backbeat.domain.records import AppliedMessage, AuditSource
from backbeat.errors import MessageAlreadyAppliedError

FollowUp = Callable[[], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Effect:
    """What a state-changing command did in its transaction, and what follows the commit.

    ``reply``: the command's one reply (None when nobody waits for one). ``audit``: the
    AuditLog payload (None: nothing to audit). ``events``: domain events ``(type, payload)``.
    ``follow``: makes Lavalink follow the committed state. ``ui``: the snapshot to publish
    afterwards (``update``, ``create``, ``delete:<reason>`` or None).
    """

    reply: Envelope | None
    audit: Mapping[str, Any] | None = None
    events: Sequence[tuple[str, Mapping[str, Any]]] = ()
    follow: FollowUp | None = None
    ui: str | None = "update"
    #: The committed state read in the same transaction, for the snapshot (set by the caller).
    view: object = None


@dataclass(frozen=True, slots=True)
class Replayed:
    """The command was applied before: its stored reply, to send again."""

    reply: Envelope | None


Work = Callable[[AsyncConnection], Awaitable[Effect]]


def _reply_json(reply: Envelope | None) -> dict[str, Any] | None:
    return None if reply is None else reply.model_dump(mode="json")


def _stored_reply(data: Mapping[str, Any] | None) -> Envelope | None:
    if not data:
        return None
    message = decode(Channel.TO_DISCORD, json.dumps(dict(data)))
    return message if isinstance(message, Envelope) else None


@dataclass(slots=True)
class Committed:
    """A command of a batch whose outcome is in the batch's transaction: its effect (None
    when it was refused, failed, or was applied before) and the reply it gets."""

    command: CommandEnvelope
    state: Any
    effect: Effect | None
    reply: Envelope | None
    #: Applied before (a redelivery): make the player follow SQL instead of an effect.
    replayed: bool = False
    #: A read-only command's answer (nothing recorded).
    read: bool = False


@dataclass(eq=False)
class Batch:
    """Many commands' one transaction (see the module docstring); open while ``conn`` is."""

    conn: AsyncConnection
    applied: dict[str, AppliedMessage]
    #: The guilds' sessions, read once and changed in memory by the ``staged`` commands.
    sessions: BatchSessions
    #: Command types whose work only stages session changes (no savepoint taken for them
    #: unless their work writes SQL itself: :meth:`savepoint`).
    staged: frozenset[str] = frozenset()
    audit: list[NewAuditEntry] = field(default_factory=list)
    events: list[tuple[int, str, Mapping[str, Any]]] = field(default_factory=list)
    records: list[AppliedMessage] = field(default_factory=list)
    #: Outcomes in the order the commands ran, for the processor to finish after the commit.
    committed: list[Committed] = field(default_factory=list)
    #: Snapshot views read in the transaction, by guild (the processor fills it).
    views: dict[int, object] = field(default_factory=dict)
    closed: bool = False
    #: The running command's savepoint (taken: True on PostgreSQL, else the nested
    #: transaction), None before it is taken.
    _savepoint: object = None

    async def savepoint(self) -> None:
        """Take the running command's savepoint unless taken (its work is about to write)."""
        if self._savepoint is not None:
            return
        if self.conn.dialect.name == "postgresql":
            # one statement: the savepoint is never released (released with the commit; a
            # later one of the same name shadows it), rolled back to on a failure
            await self.conn.exec_driver_sql("SAVEPOINT bb_command")
            self._savepoint = True
        else:
            self._savepoint = await self.conn.begin_nested()

    async def _end_command(self, *, failed: bool) -> None:
        savepoint, self._savepoint = self._savepoint, None
        if savepoint is True:
            if failed:
                await self.conn.exec_driver_sql("ROLLBACK TO SAVEPOINT bb_command")
        elif isinstance(savepoint, AsyncTransaction) and savepoint.is_active:
            await (savepoint.rollback() if failed else savepoint.commit())

    def replayed(self, command: CommandEnvelope) -> Replayed | None:
        """The stored reply when the command was applied before the batch, else None."""
        found = self.applied.get(command.id)
        return None if found is None else Replayed(_stored_reply(found.reply))

    def answer(
        self, state: Any, command: CommandEnvelope, reply: Envelope | None, *, replayed: bool
    ) -> None:
        """A command without an effect of its own: only its reply goes out after the commit."""
        self.committed.append(Committed(command, state, None, reply, replayed=replayed))

    def show(
        self, state: Any, command: CommandEnvelope, reply: Envelope | None, *, ui: str | None
    ) -> None:
        """A read-only command's answer, and the snapshot ``ui`` to publish, after the commit."""
        effect = Effect(reply=reply, ui=ui)
        self.committed.append(Committed(command, state, effect, reply, read=True))

    def refuse(self, state: Any, command: CommandEnvelope, reply: Envelope | None) -> None:
        """Record a refusal with its error reply in the batch (a redelivery answers the same)."""
        self.records.append(_applied_record(command, reply))
        self.committed.append(Committed(command, state, None, reply))

    def _record(self, command: CommandEnvelope, effect: Effect) -> None:
        context = command.context
        if effect.audit is not None:
            self.audit.append(
                NewAuditEntry(
                    action=command.type,
                    source=AuditSource(command.source),
                    guild_id=command.guild_id,
                    actor_id=context.user_id,
                    channel_id=context.text_channel_id,
                    payload={"message_id": command.id, **effect.audit},
                )
            )
        for kind, payload in effect.events:
            self.events.append((command.guild_id, kind, payload))
        self.records.append(_applied_record(command, effect.reply))


#: The batch open in the current task (the processor's batch handler), if any.
_BATCH: ContextVar[Batch | None] = ContextVar("audio_ledger_batch", default=None)


def _applied_record(command: CommandEnvelope, reply: Envelope | None) -> AppliedMessage:
    return AppliedMessage(
        message_id=command.id,
        guild_id=command.guild_id,
        command_type=command.type,
        applied_at=utc_now(),
        reply=_reply_json(reply),
    )


class Ledger:
    """Runs state-changing commands exactly once on one engine."""

    def __init__(self, engine: AsyncEngine, *, pool: str = AUDIO_POOL) -> None:
        self._engine = engine
        self._pool = pool
        self.applied = AppliedMessagesRepository(engine)
        self.audit = AuditRepository(engine)
        self.events = EventStoreRepository(engine)
        self.queue = QueueRepository(engine)

    async def apply(
        self, delivery: Delivery | None, command: CommandEnvelope, work: Work
    ) -> Effect | Replayed:
        """Run ``work`` in the command's transaction, or return the stored reply of a repeat.

        Inside an open :meth:`batch` the work runs in the batch's transaction, under a
        savepoint of its own."""
        batch = self.open_batch()
        if batch is not None:
            return await self._apply_in(batch, command, work)

        async def transaction(conn: AsyncConnection) -> Effect | Replayed:
            found = await self.applied.find(conn, command.id)
            if found is not None:
                return Replayed(_stored_reply(found.reply))
            await self._fence(conn, delivery)
            effect = await work(conn)
            await self._record(conn, command, effect)
            return effect

        try:
            return await in_transaction(self._engine, f"audio.{command.type}", transaction)
        except MessageAlreadyAppliedError:
            # a concurrent delivery of the same message committed first
            return await self.replay(command) or Replayed(None)

    # --- batches ------------------------------------------------------------------------------

    def open_batch(self) -> Batch | None:
        """The batch open in the current task, None outside one."""
        batch = _BATCH.get()
        return None if batch is None or batch.closed else batch

    @property
    def batching(self) -> bool:
        return self.open_batch() is not None

    def defer(self, state: Any, command: CommandEnvelope, result: Effect | Replayed) -> bool:
        """Inside a batch, keep an applied effect for the processor to finish after the
        commit (True); outside one, False: the caller finishes it now."""
        batch = self.open_batch()
        if batch is None or not isinstance(result, Effect):
            return False
        batch.committed.append(Committed(command, state, result, result.reply))
        return True

    @asynccontextmanager
    async def batch(
        self, deliveries: Sequence[Delivery], *, staged: frozenset[str] = frozenset()
    ) -> AsyncIterator[Batch]:
        """One transaction for many commands: the fencing token of each partition advanced
        once (first), every applied id looked up in one query, and on a normal exit the
        staged session changes written and the AuditLog, EventStoreEvent and applied rows
        inserted before the commit. ``staged``: the command types that only stage session
        changes (:class:`~backbeat.audio.batch_sessions.BatchSessions`).

        An exception leaves nothing committed (the processor hands the commands back)."""
        async with self._engine.connect() as conn, conn.begin():
            tokens: dict[int, int] = {}
            for d in deliveries:
                if d.fence is not None:  # the highest, as advancing each in turn would leave
                    tokens[d.partition] = max(d.fence, tokens.get(d.partition, d.fence))
            await advance_fences(conn, pool=self._pool, tokens=tokens)
            ids = [d.message.id for d in deliveries]
            applied = await self.applied.find_many(conn, ids)
            batch = Batch(conn, applied, BatchSessions(self.queue), staged=staged)
            reset = _BATCH.set(batch)
            try:
                yield batch
                batch.closed = True
                await batch.sessions.flush(conn)
                await self.audit.append_many(conn, batch.audit)
                await self.events.append_many(conn, batch.events)
                await self.applied.record_many(conn, batch.records)
            finally:
                batch.closed = True
                _BATCH.reset(reset)

    async def _apply_in(
        self, batch: Batch, command: CommandEnvelope, work: Work
    ) -> Effect | Replayed:
        replayed = batch.replayed(command)
        if replayed is not None:
            return replayed
        sessions = batch.sessions
        staging = command.type in batch.staged
        if not staging:
            # it reads and writes SQL itself: what earlier commands staged for the guild is
            # written first (theirs, kept whatever this one does), then the savepoint
            await sessions.flush(batch.conn, command.guild_id)
            await batch.savepoint()
        sessions.begin(staging=staging)
        try:
            effect = await work(batch.conn)
        except BaseException:
            sessions.drop()
            await batch._end_command(failed=True)
            raise
        sessions.commit()
        await batch._end_command(failed=False)
        batch._record(command, effect)
        return effect

    async def replay(self, command: CommandEnvelope) -> Replayed | None:
        """The stored reply when the command was applied already (checked before a
        redelivery repeats slow work such as a search), else None."""

        async def lookup(conn: AsyncConnection) -> Replayed | None:
            found = await self.applied.find(conn, command.id)
            return None if found is None else Replayed(_stored_reply(found.reply))

        return await in_transaction(self._engine, "audio.replay", lookup, read_only=True)

    async def refuse(
        self, delivery: Delivery | None, command: CommandEnvelope, reply: Envelope | None
    ) -> Replayed | None:
        """Record a refused command with its error reply (nothing else changes), so a
        redelivery answers the same; a repeat returns the reply stored first."""

        async def transaction(conn: AsyncConnection) -> Replayed | None:
            found = await self.applied.find(conn, command.id)
            if found is not None:
                return Replayed(_stored_reply(found.reply))
            await self._fence(conn, delivery)
            await self.applied.record(
                conn,
                message_id=command.id,
                guild_id=command.guild_id,
                command_type=command.type,
                reply=_reply_json(reply),
            )
            return None

        try:
            return await in_transaction(self._engine, "audio.refused", transaction)
        except MessageAlreadyAppliedError:
            return await self.replay(command) or Replayed(None)

    async def _fence(self, conn: AsyncConnection, delivery: Delivery | None) -> None:
        if delivery is not None and delivery.fence is not None:
            await advance_fence(
                conn, pool=self._pool, partition=delivery.partition, token=delivery.fence
            )

    async def _record(
        self, conn: AsyncConnection, command: CommandEnvelope, effect: Effect
    ) -> None:
        context = command.context
        if effect.audit is not None:
            await self.audit.append(
                conn=conn,
                action=command.type,
                source=AuditSource(command.source),
                guild_id=command.guild_id,
                actor_id=context.user_id,
                channel_id=context.text_channel_id,
                payload={"message_id": command.id, **effect.audit},
            )
        for kind, payload in effect.events:
            await self.events.append(
                conn=conn, guild_id=command.guild_id, type=kind, payload=payload
            )
        await self.applied.record(
            conn,
            message_id=command.id,
            guild_id=command.guild_id,
            command_type=command.type,
            reply=_reply_json(effect.reply),
        )
