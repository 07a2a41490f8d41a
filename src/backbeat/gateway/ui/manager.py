"""The UI manager: one now-playing message per guild, rendered only from ``ui:now`` states.

* ``create`` replaces the guild's message (the old one is deleted, a new one posted in the
  state's text channel) and records it (:class:`~backbeat.gateway.ui.store.NowPlayingStore`).
* ``update`` edits it. The consumer only records what each guild's message should become;
  one worker per guild talks to Discord (so a slow or rate-limited guild never holds up the
  others of its partition). Edits are thus coalesced per message: one at a time, and a
  newer state replaces one not yet sent, so the latest state wins however fast states come;
  discord.py waits out the route bucket from Discord's rate-limit headers and a
  process-wide :class:`~backbeat.gateway.ui.pacer.Pacer` keeps under the global limit. An
  edit refused with 429 after discord.py's own retries is tried again (unless newer came).
* ``delete`` removes it; ``error`` posts a short self-deleting notice.
* Each edit is noted in the channel's :class:`~backbeat.gateway.ui.budget.ChannelBudget`,
  which the live lyrics share (they take only what the now-playing message leaves), and
  every state is passed on to the watchers (:meth:`UiManager.watch`) with its time.
* While a button click's command is in flight (from the click to its reply, at most
  :data:`BUSY_MAX_S`), every render of the message shows the buttons disabled, whatever
  state comes meanwhile; the reply (or the bound) brings them back.
* A state whose ``state_seq`` is not newer than the one shown is ignored, across restarts too
  (the cache keeps the last one), and an ``update`` for a guild without a message posts one,
  so a restarted gateway converges on the player's state without a duplicate.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import Enum

import discord

from backbeat.bus.interface import Delivery
from backbeat.domain.i18n import language_of
from backbeat.domain.messages import NowPlayingState
from backbeat.domain.messages.ui import UiCreate, UiDelete, UiError, UiUpdate
from backbeat.gateway.ops import (
    MESSAGE_DELETE,
    MESSAGE_EDIT,
    MESSAGE_SEND,
    count_retry,
    discord_operation,
)
from backbeat.gateway.texts import error_text
from backbeat.gateway.ui.budget import ChannelBudget
from backbeat.gateway.ui.buttons import controls, disabled_copy
from backbeat.gateway.ui.embeds import EmbedFactory
from backbeat.gateway.ui.pacer import Pacer
from backbeat.gateway.ui.store import MessageRef, NowPlayingStore
from backbeat.observability.logging import get_logger
from backbeat.observability.metrics import gateway_ui_states_coalesced_total

_log = get_logger(__name__)

_GONE = (10003, 10008)  # Unknown Channel, Unknown Message

#: How long a click's command may keep the buttons disabled when its reply never comes.
BUSY_MAX_S = 15.0


@dataclass
class Render:
    """What one edit shows: an embed and buttons, and the state number behind it."""

    embed: discord.Embed
    view: discord.ui.View
    seq: int
    busy: bool = False


class Want(Enum):
    """What the guild's worker is to do next (newer wishes replace older ones)."""

    REPLACE = "replace"  # delete the old message, post a new one with the latest state
    SHOW = "show"  # edit the message to the latest state (post one when there is none)
    BUSY = "busy"  # edit it to ``busy`` (buttons disabled while a click is in flight)
    DELETE = "delete"  # delete it and forget it


@dataclass(eq=False)
class GuildUi:
    guild_id: int
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    loaded: bool = False
    ref: MessageRef | None = None
    seq: int = 0
    state: NowPlayingState | None = None
    want: Want | None = None
    busy: Render | None = None
    #: The message shows disabled buttons (a click's command in flight).
    shows_busy: bool = False
    #: Clicks' commands in flight (command id -> the timer that gives up on its reply).
    in_flight: dict[str, asyncio.TimerHandle] = field(default_factory=dict)
    worker: asyncio.Task[None] | None = None
    #: The Unix time ``state`` held (its envelope's ``ts``): where the position was measured.
    state_at: float = 0.0


#: Called with each guild's new state (None: the player stopped) and the time it held.
StateWatcher = Callable[[int, NowPlayingState | None, float], None]


class UiManager:
    """Keeps each guild's now-playing message in step with the latest state."""

    def __init__(
        self,
        bot: discord.Client,
        store: NowPlayingStore,
        embeds: EmbedFactory,
        *,
        pacer: Pacer | None = None,
        budget: ChannelBudget | None = None,
        notice_delete_after_s: float = 20.0,
    ) -> None:
        self._bot = bot
        self._store = store
        self._embeds = embeds
        self._pacer = pacer or Pacer()
        self._budget = budget or ChannelBudget()
        self._watchers: list[StateWatcher] = []
        self._delete_after_s = notice_delete_after_s
        self._guilds: dict[int, GuildUi] = {}
        self._notices: set[asyncio.Task[None]] = set()
        self._closed = False

    # -- queries ----------------------------------------------------------------------------

    def state_of(self, guild_id: int) -> NowPlayingState | None:
        ui = self._guilds.get(guild_id)
        return None if ui is None else ui.state

    def snapshot(self, guild_id: int) -> tuple[NowPlayingState, float] | None:
        """The guild's last state and the Unix time it held (None: no state known)."""
        ui = self._guilds.get(guild_id)
        if ui is None or ui.state is None:
            return None
        return ui.state, ui.state_at

    def watch(self, watcher: StateWatcher) -> None:
        """Have ``watcher`` called with every new state (after it is recorded)."""
        self._watchers.append(watcher)

    def message_of(self, guild_id: int) -> MessageRef | None:
        ui = self._guilds.get(guild_id)
        return None if ui is None else ui.ref

    async def idle(self) -> None:
        """Wait until no edit is pending (tests and shutdown)."""
        while True:
            workers = [ui.worker for ui in self._guilds.values() if ui.worker is not None]
            if not workers:
                return
            await asyncio.gather(*workers, return_exceptions=True)

    # -- ui:now -----------------------------------------------------------------------------

    async def handle(self, delivery: Delivery) -> None:
        """The ``ui:now`` consumer's handler: records the wish and returns at once (the
        guild's worker talks to Discord, so one guild's slow edits never hold up others)."""
        message = delivery.message
        ui = await self._loaded(message.guild_id)
        if isinstance(message, UiCreate | UiUpdate | UiDelete | UiError):
            seq = message.payload.state_seq
            if seq <= ui.seq:
                _log.debug("stale now-playing state ignored", guild_id=ui.guild_id, seq=seq)
                return
            ui.seq = seq
        if isinstance(message, UiCreate):
            ui.state, ui.state_at = message.payload.state, message.ts
            self._wish(ui, Want.REPLACE)
        elif isinstance(message, UiUpdate):
            ui.state, ui.state_at = message.payload.state, message.ts
            self._wish(ui, Want.REPLACE if ui.want is Want.REPLACE else Want.SHOW)
        elif isinstance(message, UiDelete):
            ui.state, ui.state_at = None, message.ts
            self._wish(ui, Want.DELETE)
        elif isinstance(message, UiError):
            notice = asyncio.create_task(self._error(ui, message), name="np-notice")
            self._notices.add(notice)
            notice.add_done_callback(self._notices.discard)
        if isinstance(message, UiCreate | UiUpdate | UiDelete):
            for watcher in self._watchers:
                try:
                    watcher(ui.guild_id, ui.state, ui.state_at)
                except Exception:
                    _log.exception("state watcher failed", guild_id=ui.guild_id)

    # -- buttons ----------------------------------------------------------------------------

    async def busy(self, guild_id: int, message: discord.Message | None, command_id: str) -> None:
        """Show the buttons disabled while the click's command ``command_id`` is in flight."""
        ui = await self._loaded(guild_id)
        if command_id not in ui.in_flight:
            ui.in_flight[command_id] = asyncio.get_running_loop().call_later(
                BUSY_MAX_S, self.refresh, guild_id, command_id
            )
        if ui.ref is None and message is not None:
            ui.ref = MessageRef(message.channel.id, message.id, ui.seq)
        if ui.ref is None or ui.want in (Want.REPLACE, Want.DELETE):
            return
        if ui.state is not None:
            ui.busy = Render(
                self._embeds.now_playing(ui.state, self.locale_of(guild_id)),
                self._controls(guild_id, ui.state, disabled=True),
                ui.seq,
                busy=True,
            )
        elif message is not None and message.embeds:
            ui.busy = Render(message.embeds[0], disabled_copy(message), ui.seq, busy=True)
        else:
            return
        ui.shows_busy = True  # from now on: a refresh must bring the buttons back
        self._wish(ui, Want.BUSY)

    def refresh(self, guild_id: int, command_id: str) -> None:
        """The click's command ``command_id`` is answered (or failed, or given up on): once
        none is in flight, render the latest state again with the buttons enabled."""
        ui = self._guilds.get(guild_id)
        if ui is None:
            return
        timer = ui.in_flight.pop(command_id, None)
        if timer is not None:
            timer.cancel()
        if ui.in_flight or ui.state is None:
            return
        if ui.want is Want.BUSY or (ui.want is None and ui.shows_busy):
            self._wish(ui, Want.SHOW)

    async def close(self) -> None:
        self._closed = True
        for ui in self._guilds.values():
            for timer in ui.in_flight.values():
                timer.cancel()
            ui.in_flight.clear()
        workers = [ui.worker for ui in self._guilds.values() if ui.worker is not None]
        workers.extend(self._notices)
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)

    # -- internals --------------------------------------------------------------------------

    async def _loaded(self, guild_id: int) -> GuildUi:
        ui = self._guilds.get(guild_id)
        if ui is None:
            ui = self._guilds[guild_id] = GuildUi(guild_id)
        if not ui.loaded:
            async with ui.lock:
                if not ui.loaded:
                    ref = await self._store.get(guild_id)
                    if ref is not None:
                        ui.ref = ref
                        ui.seq = max(ui.seq, ref.state_seq)
                    ui.loaded = True
        return ui

    def locale_of(self, guild_id: int) -> str:
        """The guild's preferred locale (the message is everyone's, not one user's)."""
        guild = self._bot.get_guild(guild_id)
        locale = getattr(guild, "preferred_locale", None) if guild is not None else None
        return str(getattr(locale, "value", locale) or "en-US")

    def _render(self, ui: GuildUi) -> Render:
        assert ui.state is not None
        embed = self._embeds.now_playing(ui.state, self.locale_of(ui.guild_id))
        busy = bool(ui.in_flight)
        view = self._controls(ui.guild_id, ui.state, disabled=busy)
        return Render(embed, view, ui.seq, busy=busy)

    def _controls(
        self, guild_id: int, state: NowPlayingState, *, disabled: bool
    ) -> discord.ui.View:
        return controls(
            guild_id, state, disabled=disabled, tr=self._embeds.tr, locale=self.locale_of(guild_id)
        )

    def _wish(self, ui: GuildUi, want: Want) -> None:
        if ui.want is not None:
            gateway_ui_states_coalesced_total.inc()
        ui.want = want
        if not self._closed and (ui.worker is None or ui.worker.done()):
            ui.worker = asyncio.create_task(self._drain(ui), name=f"np-{ui.guild_id}")

    async def _drain(self, ui: GuildUi) -> None:
        """One guild's worker: carries out the latest wish until none is left."""
        try:
            while ui.want is not None:
                want, ui.want = ui.want, None
                try:
                    await self._carry_out(ui, want)
                except Exception:
                    _log.exception("now-playing update failed", guild_id=ui.guild_id)
        finally:
            ui.worker = None

    async def _carry_out(self, ui: GuildUi, want: Want) -> None:
        async with ui.lock:
            if want is Want.DELETE:
                await self._remove(ui)
            elif want is Want.REPLACE:
                await self._replace(ui)
            elif want is Want.BUSY:
                busy, ui.busy = ui.busy, None
                if ui.ref is not None and busy is not None:
                    await self._edit(ui, ui.ref, busy)
            elif ui.state is not None:
                if ui.ref is None:
                    await self._send_new(ui)
                else:
                    await self._edit(ui, ui.ref, self._render(ui))

    async def _edit(self, ui: GuildUi, ref: MessageRef, render: Render) -> None:
        channel = self._bot.get_partial_messageable(ref.channel_id, guild_id=ui.guild_id)
        await self._pacer.wait()
        self._budget.note(ref.channel_id)
        try:
            async with discord_operation(MESSAGE_EDIT):
                await channel.get_partial_message(ref.message_id).edit(
                    embed=render.embed, view=render.view
                )
        except discord.NotFound as error:
            if error.code in _GONE:
                _log.info("now-playing message gone; posting a new one", guild_id=ui.guild_id)
                ui.ref = None
                await self._store.clear(ui.guild_id)
                if ui.state is not None:
                    await self._send_new(ui)
            return
        except discord.HTTPException as error:
            if error.status == 429 or error.status >= 500:
                count_retry(MESSAGE_EDIT)
                if ui.want is None:
                    ui.want, ui.busy = (Want.BUSY, render) if render.busy else (Want.SHOW, None)
                await asyncio.sleep(_retry_after(error))
                return
            _log.warning(
                "now-playing edit refused",
                guild_id=ui.guild_id,
                message_id=ref.message_id,
                status=error.status,
                code=error.code,
            )
            return
        ui.shows_busy = render.busy
        if render.seq > ref.state_seq and ui.ref is ref:
            ui.ref = replace(ref, state_seq=render.seq)
            await self._store.seen(ui.guild_id, ui.ref)

    async def _replace(self, ui: GuildUi) -> None:
        old, ui.ref = ui.ref, None
        if old is not None:
            await self._delete_message(ui.guild_id, old)
        if ui.state is not None:
            await self._send_new(ui)

    async def _send_new(self, ui: GuildUi) -> None:
        state = ui.state
        assert state is not None
        if state.text_channel_id is None:
            _log.warning("now-playing state without a text channel", guild_id=ui.guild_id)
            return
        channel = self._bot.get_partial_messageable(state.text_channel_id, guild_id=ui.guild_id)
        render = self._render(ui)
        await self._pacer.wait()
        try:
            async with discord_operation(MESSAGE_SEND):
                sent = await channel.send(embed=render.embed, view=render.view)
        except discord.HTTPException as error:
            _log.warning(
                "now-playing message not posted",
                guild_id=ui.guild_id,
                channel_id=state.text_channel_id,
                status=error.status,
                code=error.code,
            )
            return
        ui.ref = MessageRef(state.text_channel_id, sent.id, render.seq)
        ui.shows_busy = render.busy
        await self._store.put(ui.guild_id, ui.ref)
        _log.info("now-playing message posted", guild_id=ui.guild_id, message_id=sent.id)

    async def _remove(self, ui: GuildUi) -> None:
        old, ui.ref = ui.ref, None
        if old is not None:
            await self._delete_message(ui.guild_id, old)
            await self._store.clear(ui.guild_id)

    async def _delete_message(self, guild_id: int, ref: MessageRef) -> None:
        channel = self._bot.get_partial_messageable(ref.channel_id, guild_id=guild_id)
        await self._pacer.wait()
        try:
            async with discord_operation(MESSAGE_DELETE):
                await channel.get_partial_message(ref.message_id).delete()
        except discord.NotFound:
            return
        except discord.HTTPException as error:
            _log.warning(
                "old now-playing message not deleted",
                guild_id=guild_id,
                message_id=ref.message_id,
                status=error.status,
            )

    async def _error(self, ui: GuildUi, message: UiError) -> None:
        payload = message.payload
        channel_id = payload.text_channel_id or (ui.ref.channel_id if ui.ref else None)
        if channel_id is None:
            return
        locale = self.locale_of(ui.guild_id)
        tr = self._embeds.tr
        # English keeps audio's own, more precise sentence; other languages say it by code.
        translated = (
            None if language_of(locale) == "en" else tr.text(locale, f"error.{payload.code}")
        )
        text = translated or error_text(payload.message)
        if payload.skipped:
            text += tr(locale, "np.skipped")
        channel = self._bot.get_partial_messageable(channel_id, guild_id=ui.guild_id)
        await self._pacer.wait()
        try:
            async with discord_operation(MESSAGE_SEND):
                await channel.send(
                    embed=self._embeds.notice(text), delete_after=self._delete_after_s
                )
        except discord.HTTPException as error:
            _log.warning("playback notice not posted", guild_id=ui.guild_id, status=error.status)


def _retry_after(error: discord.HTTPException) -> float:
    response = error.response
    try:
        value = float(response.headers.get("Retry-After", "1"))
    except (TypeError, ValueError, AttributeError):
        value = 1.0
    return min(max(value, 0.05), 30.0)
