"""The command processor: the ``discord-bot:commands`` handler of an audio worker.

Each command runs under its guild's lock (player events and timers take it too), so a
guild's commands apply in order and see each other's committed state. Other guilds are not
held up: the bus hands each guild of a partition its own lane. A handler's refusal or error
becomes the command's one error reply (``no_node`` while every Lavalink node is down and the
command needs one); nothing a command does crashes the worker. Only a
lost lease (stale fencing token) and an unreachable or failing database propagate, so the
bus keeps the message for a retry or for the partition's next owner.

**Batches** (:meth:`CommandProcessor.handle_batch`, the bus's batch handler): the bus
hands over what the guilds' lanes of a partition have ready (state-changing commands only,
and not ``play``/``playnow``/``playnext``/``summon``, whose search or handshake comes before
the transaction: those, and read-only commands, go one at a time in their lanes). A batch
is cut into rounds; a round takes, for each guild, its next commands in order up to
and including the first that is not a plain control (pause, resume, toggle, volume, filters,
loop, shuffle, remove, move, clear) — so no command in a round depends on a player change
still to come — or a read-only command alone. A round's state-changing commands run under
their guilds' locks in one transaction (:meth:`Ledger.batch <backbeat.audio.ledger.Ledger.batch>`),
each under a savepoint, so a refusal or a failure is that command's error reply and the
others commit. After the commit each guild follows in order (its controls' player changes
coalesced into the final state), gets one snapshot and its replies, and its deliveries are
finished (``Delivery.finished``); guilds finish concurrently, and the publishes go out
pipelined. Batches waiting for a transaction are committed together (a group commit, at
most :data:`BATCH_TRANSACTIONS` at once). ``queue`` and ``nowplaying`` run on the batch's
connection; other read-only commands after the commit. A transaction that fails as a whole
(the database, a deadlock, a lost lease) leaves its commands and the later rounds'
unfinished: the bus hands them to the single path one at a time.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Sequence
from time import perf_counter
from typing import Final

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from backbeat.audio.context import Audio, View
from backbeat.audio.errors import CommandRefusedError, NoNodeAvailableError
from backbeat.audio.guilds import GuildState
from backbeat.audio.handlers import HANDLERS, READ_ONLY, SESSION_ONLY
from backbeat.audio.handlers.player_patch import CURRENT_PATCH, PlayerPatch
from backbeat.audio.ledger import Batch, Committed
from backbeat.audio.replies import error_reply
from backbeat.bus.interface import Batching, Delivery
from backbeat.domain.messages import Envelope
from backbeat.domain.messages.commands import CommandEnvelope
from backbeat.errors import BackendUnavailableError, StaleFencingTokenError
from backbeat.observability.logging import get_logger
from backbeat.observability.metrics import (
    audio_batch_commands,
    audio_batch_fallbacks_total,
    audio_command_duration_seconds,
)

_log = get_logger(__name__)

#: Failures that must leave the message unacknowledged: a lost lease (the partition's next
#: owner takes the message) and an unreachable or failing database (the bus retries).
_RETRY_ON_BUS = (StaleFencingTokenError, BackendUnavailableError, OperationalError, InterfaceError)

#: Commands whose only player change (if any) is pause, volume or filters, and whose work
#: reads nothing a player change of the same batch would alter: several of a guild's may
#: share a round, their player changes coalesced.
PLAIN_CONTROLS: Final = frozenset(
    {"pause", "resume", "toggle", "volume", "filters", "loop", "shuffle", "remove", "move", "clear"}
)

Item = tuple[Delivery, CommandEnvelope]

#: Batch transactions open at once per worker (each commits every batch waiting when it
#: starts: a group commit). Work in a batch may take a second connection
#: (a search's cache, a guild's settings) while the batch holds one, so the batches must
#: leave part of the engine's pool (5 + 10 overflow by default) to those.
BATCH_TRANSACTIONS: Final = 8


#: Read-only commands that run in a batch's transaction too (alone in their guild's round;
#: no applied row), their replies and snapshot sent after the commit.
BATCHED_READS: Final = frozenset({"queue", "nowplaying"})


def _guild_of(item: Item) -> int:
    return item[1].guild_id


def _in_batch(command: CommandEnvelope) -> bool:
    """Commands that run in a round's transaction; the others after its commit."""
    return command.type in HANDLERS and (
        command.type not in READ_ONLY or command.type in BATCHED_READS
    )


def _alone(command: CommandEnvelope) -> bool:
    """Commands a round takes alone for their guild (reads: they see only what committed)."""
    return not _in_batch(command) or command.type in READ_ONLY


#: Commands whose work waits for something outside SQL before the transaction (a search,
#: a voice handshake): handled one at a time in their guild's lane, never inside a batch's
#: transaction, so they hold up no other guild.
_SLOW_BEFORE_WORK: Final = frozenset({"play", "playnow", "playnext", "summon"})


def batchable(message: Envelope) -> bool:
    """Whether the bus hands this message to the batch handler."""
    return (
        isinstance(message, CommandEnvelope)
        and _in_batch(message)
        and message.type not in _SLOW_BEFORE_WORK
    )


def joins(previous: Envelope, message: Envelope) -> bool:
    """Whether a guild's command may share a batch (and a round) with the one before it."""
    return previous.type in PLAIN_CONTROLS and message.type not in READ_ONLY


def rounds(items: Sequence[Item]) -> list[list[Item]]:
    """Cut a batch into rounds (see the module docstring), keeping each guild's order."""
    queues: dict[int, deque[Item]] = {}
    for item in items:
        queues.setdefault(item[1].guild_id, deque()).append(item)
    cut: list[list[Item]] = []
    while queues:
        round_: list[Item] = []
        for guild_id in list(queues):
            queue = queues[guild_id]
            if _alone(queue[0][1]):
                round_.append(queue.popleft())
            else:
                while queue and not _alone(queue[0][1]):
                    item = queue.popleft()
                    round_.append(item)
                    if item[1].type not in PLAIN_CONTROLS:
                        break
            if not queue:
                del queues[guild_id]
        cut.append(round_)
    return cut


class CommandProcessor:
    """Applies commands to the SQL queue and makes the players follow."""

    def __init__(self, audio: Audio, *, batch_transactions: int = BATCH_TRANSACTIONS) -> None:
        self.audio = audio
        self._limit = batch_transactions
        self._committers = 0
        self._waiting: list[tuple[list[Item], asyncio.Future[list[asyncio.Task[None]]]]] = []
        self._tasks: set[asyncio.Task[None]] = set()

    async def handle(self, delivery: Delivery) -> None:
        """The bus handler: returns once the command's effect is committed and answered."""
        command = delivery.message
        if not isinstance(command, CommandEnvelope):  # pragma: no cover - the channel's union
            _log.warning("not_a_command", type=command.type, message_id=command.id)
            return
        await self.apply(command, delivery)

    def batching(self) -> Batching:
        """The bus's batch mode for ``commands``: which commands go in batches, which may
        share one with the guild's command before them."""
        return Batching(handler=self.handle_batch, accepts=batchable, joins=joins)

    async def handle_batch(self, deliveries: Sequence[Delivery]) -> None:
        """The bus's batch handler: each delivery is finished (committed and answered) as
        soon as its guild is; a round that fails as a whole raises, leaving its commands and
        the later rounds' unfinished (the bus hands them one at a time)."""
        items = [(d, d.message) for d in deliveries if isinstance(d.message, CommandEnvelope)]
        if len(items) == 1:
            await self.handle(items[0][0])
            return
        for round_ in rounds(items):
            try:
                await self._round(round_)
            except Exception as error:
                audio_batch_fallbacks_total.inc()
                _log.warning(
                    "command_batch_not_committed",
                    commands=len(round_),
                    error=type(error).__name__,
                    exc_info=not isinstance(error, _RETRY_ON_BUS),
                )
                raise

    async def _round(self, items: list[Item]) -> None:
        writes = [item for item in items if _in_batch(item[1])]
        reads = [item for item in items if not _in_batch(item[1])]
        if writes:
            finishes = await self._group_commit(writes)
            await asyncio.gather(*finishes)
        if reads:
            await asyncio.gather(*(self.apply(command, delivery) for delivery, command in reads))

    async def _group_commit(self, writes: list[Item]) -> list[asyncio.Task[None]]:
        """Commit ``writes`` together with whatever other batches wait for a transaction
        (at most ``batch_transactions`` run at once, each taking everything waiting); the
        tasks finishing these commands' guilds."""
        future: asyncio.Future[list[asyncio.Task[None]]] = (
            asyncio.get_running_loop().create_future()
        )
        self._waiting.append((writes, future))
        self._kick()
        return await future

    def _kick(self) -> None:
        while self._waiting and self._committers < self._limit:
            self._committers += 1
            task = asyncio.create_task(self._committer(), name="audio:commit")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _committer(self) -> None:
        try:
            await asyncio.sleep(0)  # let this turn's batches join
            while self._waiting:
                taken, self._waiting = self._waiting, []
                await self._transact(taken)
        finally:
            self._committers -= 1
            self._kick()

    async def _transact(
        self, taken: list[tuple[list[Item], asyncio.Future[list[asyncio.Task[None]]]]]
    ) -> None:
        """One transaction for the commands of several batches (their guilds all differ:
        a guild's next commands come only after its last ones finished)."""
        # by guild (stable: each guild's order kept), so row locks are taken in one order
        writes = sorted((item for items, _ in taken for item in items), key=_guild_of)
        started = perf_counter()
        states = {c.guild_id: self.audio.guilds.get(c.guild_id) for _, c in writes}
        held: list[GuildState] = []
        try:
            for guild_id in sorted(states):
                await states[guild_id].lock.acquire()
                held.append(states[guild_id])
            ledger = self.audio.ledger
            async with ledger.batch([d for d, _ in writes], staged=SESSION_ONLY) as batch:
                # every guild's queue row locked up front, in guild order (a later statement
                # then waits for no other transaction), and its session read: one statement
                in_order = sorted(states)
                found = await ledger.queue.views(guild_ids=in_order, lock=True, conn=batch.conn)
                batch.sessions.load(found, in_order)
                for delivery, command in writes:
                    await self._run_in(batch, states[command.guild_id], command, delivery)
                await self._read_views(batch)
        except BaseException as error:
            for state in held:
                state.lock.release()
            for _, future in taken:
                if not future.done():
                    future.set_exception(error)
            if not isinstance(error, Exception):
                raise
            return
        audio_batch_commands.observe(len(writes))
        by_guild: dict[int, list[Committed]] = {}
        for outcome in batch.committed:
            by_guild.setdefault(outcome.command.guild_id, []).append(outcome)
        deliveries = {command.id: delivery for delivery, command in writes}
        tasks: dict[int, asyncio.Task[None]] = {}
        for guild_id, state in states.items():
            tasks[guild_id] = asyncio.create_task(
                self._finish_guild(state, by_guild.get(guild_id, []), batch, started, deliveries),
                name=f"audio:finish:{guild_id}",
            )
        for items, future in taken:
            guilds = {command.guild_id for _, command in items}
            if not future.done():
                future.set_result([tasks[g] for g in guilds])

    async def _run_in(
        self, batch: Batch, state: GuildState, command: CommandEnvelope, delivery: Delivery
    ) -> None:
        """One command in the round's transaction; its outcome goes to ``batch.committed``."""
        log = _log.bind(guild_id=command.guild_id, message_id=command.id, type=command.type)
        if command.type in READ_ONLY:
            await self._read_in(batch, state, command, delivery)
            return
        replayed = batch.replayed(command)
        if replayed is not None:
            log.info("command_replayed")
            batch.answer(state, command, replayed.reply, replayed=True)
            return
        handler = HANDLERS[command.type]
        try:
            try:
                await handler(self.audio, state, delivery, command)
            except NoNodeAvailableError as error:
                raise CommandRefusedError(
                    "no_node", f"no audio node is available: {error}"
                ) from error
        except CommandRefusedError as refused:
            log.info("command_refused", code=refused.code, reason=refused.message)
            reply = error_reply(command, refused.code, refused.message, **refused.params)
            batch.refuse(state, command, reply)
        except _RETRY_ON_BUS:
            log.warning("command_not_committed", exc_info=True)
            raise
        except DBAPIError:
            # a deadlock, a lock timeout, any statement error: the whole transaction goes
            # back to the bus, whose single path retries what can be retried
            log.warning("command_batch_aborted", exc_info=True)
            raise
        except Exception as error:
            log.exception("command_failed")
            reply = error_reply(command, "internal", f"the command failed: {type(error).__name__}")
            batch.answer(state, command, reply, replayed=False)

    async def _read_in(
        self, batch: Batch, state: GuildState, command: CommandEnvelope, delivery: Delivery
    ) -> None:
        """A read-only command on the batch's connection; nothing recorded, its answer
        (``batch.answer``/``batch.show`` by the handler) sent after the commit."""
        try:
            await HANDLERS[command.type](self.audio, state, delivery, command)
        except CommandRefusedError as refused:
            _log.info("command_refused", guild_id=command.guild_id, code=refused.code)
            reply = error_reply(command, refused.code, refused.message, **refused.params)
            batch.answer(state, command, reply, replayed=False)
        except (*_RETRY_ON_BUS, DBAPIError):
            raise
        except Exception as error:
            _log.exception("command_failed", guild_id=command.guild_id, message_id=command.id)
            reply = error_reply(command, "internal", f"the command failed: {type(error).__name__}")
            batch.answer(state, command, reply, replayed=False)

    async def _read_views(self, batch: Batch) -> None:
        """Each guild's snapshot view after its last command of the round: one statement
        for all of them."""
        last: dict[int, str | None] = {}
        for outcome in batch.committed:
            if outcome.effect is not None and outcome.effect.ui is not None:
                last[outcome.command.guild_id] = outcome.effect.ui
        wanted = [guild_id for guild_id, kind in last.items() if kind == "update"]
        if wanted:
            batch.views.update(await self.audio.read_views(wanted, batch.conn))

    async def _finish_guild(
        self,
        state: GuildState,
        outcomes: list[Committed],
        batch: Batch,
        started: float,
        deliveries: dict[str, Delivery],
    ) -> None:
        """After the commit, in the guild's order: follow (controls coalesced), one
        snapshot, the replies; then the guild's lock is released and its deliveries are
        finished (the bus acknowledges them and hands the guild's next commands on,
        whatever other guilds of the batch still do)."""
        try:
            await self._finish_outcomes(state, outcomes, batch, started)
        finally:
            state.lock.release()
        for outcome in outcomes:
            deliveries[outcome.command.id].finished()

    async def _finish_outcomes(
        self, state: GuildState, outcomes: list[Committed], batch: Batch, started: float
    ) -> None:
        audio = self.audio
        patch = PlayerPatch(audio.players, state.guild_id)
        CURRENT_PATCH.set(patch)  # this task's own context: the guild's follow-ups only
        replies: list[Envelope | None] = [outcome.reply for outcome in outcomes]
        ui: str | None = None
        for index, outcome in enumerate(outcomes):
            command, effect = outcome.command, outcome.effect
            if audio.after_commit is not None and effect is not None:
                await audio.after_commit(command)
            if command.type not in PLAIN_CONTROLS:
                await self._flush(patch, outcomes, replies)
            patch.current = index
            try:
                if outcome.replayed:
                    await audio.follow_committed(state)
                elif effect is not None and effect.follow is not None:
                    await effect.follow()
            except CommandRefusedError as error:
                replies[index] = error_reply(command, error.code, error.message, **error.params)
            except Exception as error:
                _log.exception(
                    "command_follow_failed",
                    guild_id=command.guild_id,
                    message_id=command.id,
                    type=command.type,
                )
                replies[index] = error_reply(command, "player_error", f"the player failed: {error}")
            if effect is not None and effect.ui is not None:
                ui = effect.ui
        await self._flush(patch, outcomes, replies)
        CURRENT_PATCH.set(None)
        view = batch.views.get(state.guild_id)
        # the snapshot and the replies in one pipeline (the publisher sends what is queued)
        await asyncio.gather(
            *(
                [audio.publish_ui(state, ui, view=view if isinstance(view, View) else None)]
                if ui is not None
                else []
            ),
            *(audio.to_discord(reply) for reply in replies),
        )
        for outcome in outcomes:
            refused = outcome.effect is None and not outcome.replayed and not outcome.read
            kind = "refused" if refused else "ok"
            audio_command_duration_seconds.labels(outcome.command.type, kind).observe(
                perf_counter() - started
            )

    async def _flush(
        self, patch: PlayerPatch, outcomes: list[Committed], replies: list[Envelope | None]
    ) -> None:
        if not patch.pending:
            return
        contributors = list(patch.contributors)
        try:
            await patch.flush()
        except Exception as error:
            for index in contributors:
                command = outcomes[index].command
                _log.warning(
                    "command_follow_failed",
                    guild_id=command.guild_id,
                    message_id=command.id,
                    type=command.type,
                    error=repr(error),
                )
                replies[index] = error_reply(command, "player_error", f"the player failed: {error}")

    async def apply(self, command: CommandEnvelope, delivery: Delivery | None = None) -> None:
        started = perf_counter()
        state = self.audio.guilds.get(command.guild_id)
        log = _log.bind(guild_id=command.guild_id, message_id=command.id, type=command.type)
        outcome = "ok"
        try:
            async with state.lock:
                await self._dispatch(state, command, delivery)
        except CommandRefusedError as refused:
            outcome = "refused"
            log.info("command_refused", code=refused.code, reason=refused.message)
            try:
                await self._refuse(state, command, delivery, refused)
            except _RETRY_ON_BUS:
                raise
            except Exception:
                log.exception("command_refusal_failed")
        except _RETRY_ON_BUS:
            outcome = "error"
            log.warning("command_not_committed", exc_info=True)
            raise
        except Exception as error:
            outcome = "error"
            log.exception("command_failed")
            await self.audio.to_discord(
                error_reply(command, "internal", f"the command failed: {type(error).__name__}")
            )
        finally:
            audio_command_duration_seconds.labels(command.type, outcome).observe(
                perf_counter() - started
            )
        log.debug("command_handled", outcome=outcome, seconds=perf_counter() - started)

    async def _dispatch(
        self, state: GuildState, command: CommandEnvelope, delivery: Delivery | None
    ) -> None:
        handler = HANDLERS.get(command.type)
        if (
            handler is not None
            and command.type not in READ_ONLY
            and (delivery is None or delivery.redelivered)
        ):
            replayed = await self.audio.ledger.replay(command)
            if replayed is not None:
                _log.info("command_replayed", guild_id=command.guild_id, message_id=command.id)
                await self.audio.follow_committed(state)
                await self.audio.to_discord(replayed.reply)
                return
        if handler is None:
            raise CommandRefusedError(
                "unsupported", f"{command.type} is not available yet", command=command.type
            )
        try:
            await handler(self.audio, state, delivery, command)
        except NoNodeAvailableError as error:  # every Lavalink node down, no player to hold
            raise CommandRefusedError("no_node", f"no audio node is available: {error}") from error

    async def _refuse(
        self,
        state: GuildState,
        command: CommandEnvelope,
        delivery: Delivery | None,
        refused: CommandRefusedError,
    ) -> None:
        reply: Envelope | None = error_reply(
            command, refused.code, refused.message, **refused.params
        )
        if command.type not in READ_ONLY and command.type in HANDLERS:
            async with state.lock:
                replayed = await self.audio.ledger.refuse(delivery, command, reply)
            if replayed is not None:
                reply = replayed.reply  # a redelivery: answer as the first time
        await self.audio.to_discord(reply)
