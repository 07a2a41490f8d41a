"""The command processor: the ``discord-bot:commands`` handler of an audio worker.

Each command runs under its guild's lock (player events and timers take it too), so a
guild's commands apply in order and see each other's committed state. Other guilds are not
held up: the bus hands each guild of a partition its own lane. A handler's refusal or error
becomes the command's one error reply (``no_node`` while every Lavalink node is down and the
command needs one); nothing a command does crashes the worker. Only a
lost lease (stale fencing token) and an unreachable or failing database propagate, so the
bus keeps the message for a retry or for the partition's next owner.
"""

from __future__ import annotations

from time import perf_counter

from sqlalchemy.exc import InterfaceError, OperationalError

from backbeat.audio.context import Audio
from backbeat.audio.errors import CommandRefusedError, NoNodeAvailableError
from backbeat.audio.guilds import GuildState
from backbeat.audio.handlers import HANDLERS, READ_ONLY
from backbeat.audio.replies import error_reply
from backbeat.bus.interface import Delivery
from backbeat.domain.messages import Envelope
from backbeat.domain.messages.commands import CommandEnvelope
from backbeat.errors import BackendUnavailableError, StaleFencingTokenError
from backbeat.observability.logging import get_logger
from backbeat.observability.metrics import audio_command_duration_seconds

_log = get_logger(__name__)

#: Failures that must leave the message unacknowledged: a lost lease (the partition's next
#: owner takes the message) and an unreachable or failing database (the bus retries).
_RETRY_ON_BUS = (StaleFencingTokenError, BackendUnavailableError, OperationalError, InterfaceError)


class CommandProcessor:
    """Applies commands to the SQL queue and makes the players follow."""

    def __init__(self, audio: Audio) -> None:
        self.audio = audio

    async def handle(self, delivery: Delivery) -> None:
        """The bus handler: returns once the command's effect is committed and answered."""
        command = delivery.message
        if not isinstance(command, CommandEnvelope):  # pragma: no cover - the channel's union
            _log.warning("not_a_command", type=command.type, message_id=command.id)
            return
        await self.apply(command, delivery)

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
