"""Exactly-once effects: one command, one SQL transaction, recognised when redelivered.

The transaction of a state-changing command holds, in this order: the applied-id check (a
message already applied is answered with its stored reply and changes nothing), the
partition's fencing-token check (a worker that lost its lease while stalled cannot commit),
the command's effect on the queue and session, its AuditLog row, its domain events, and the
applied row with the reply. Only after the commit does Lavalink follow and do the snapshot
and the reply go out; the bus acknowledges the message when the handler returns.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from backbeat.bus.interface import Delivery
from backbeat.bus.keys import AUDIO_POOL
from backbeat.db.repositories.applied import AppliedMessagesRepository
from backbeat.db.repositories.audit import AuditRepository
from backbeat.db.repositories.event_store import EventStoreRepository
from backbeat.db.repositories.fencing import advance_fence
from backbeat.db.transactions import in_transaction
from backbeat.domain.messages import Channel, Envelope, decode
from backbeat.domain.messages.commands import CommandEnvelope
from backbeat.domain.records import AuditSource
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
    return None if reply is None else json.loads(reply.model_dump_json())


def _stored_reply(data: Mapping[str, Any] | None) -> Envelope | None:
    if not data:
        return None
    message = decode(Channel.TO_DISCORD, json.dumps(dict(data)))
    return message if isinstance(message, Envelope) else None


class Ledger:
    """Runs state-changing commands exactly once on one engine."""

    def __init__(self, engine: AsyncEngine, *, pool: str = AUDIO_POOL) -> None:
        self._engine = engine
        self._pool = pool
        self.applied = AppliedMessagesRepository(engine)
        self.audit = AuditRepository(engine)
        self.events = EventStoreRepository(engine)

    async def apply(
        self, delivery: Delivery | None, command: CommandEnvelope, work: Work
    ) -> Effect | Replayed:
        """Run ``work`` in the command's transaction, or return the stored reply of a repeat."""

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
