"""Live lyrics: a message whose highlighted lines follow the playing track.

When a ``lyrics`` reply carries timed lines of the track the guild plays now (its
``identifier`` is the one of the last ``ui:now`` state), :meth:`LyricsView.start` posts a
message in the channel the user asked in and follows playback from then on: the position
is the last state's ``position_ms`` at its envelope's ``ts``, extrapolated while playing,
frozen while paused; every new state (a seek, a pause, a resume) replaces it. The window
of lines around the sung one (:func:`backbeat.domain.lyrics.window`) is rendered again
only when it changes, at most once per ``edit_interval_s``, and only with an edit the
channel's :class:`~backbeat.gateway.ui.budget.ChannelBudget` grants above the reserve it
keeps for the now-playing message; every call also goes through the process-wide pacer.

It stops when another track plays or the player stops (the message is deleted, since it
shows a song that is over), when the position runs past the last line, or after
``follow_max_s``. One live message per guild: a newer one replaces it.

What an operator may tune (the interval, the lines shown, how long a message follows) is
:class:`LyricsOptions`, from the gateway settings (``BACKBEAT_LYRICS_*``). The constants
below are not settings: they protect the now-playing message and follow the protocol.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import discord

from backbeat.config import GatewaySettings
from backbeat.domain.lyrics import window
from backbeat.domain.messages import NowPlayingState
from backbeat.domain.messages.to_discord import LyricLine, LyricsReply
from backbeat.gateway.ops import MESSAGE_DELETE, MESSAGE_EDIT, MESSAGE_SEND, discord_operation
from backbeat.gateway.ui.budget import ChannelBudget
from backbeat.gateway.ui.embeds import EmbedFactory
from backbeat.gateway.ui.pacer import Pacer
from backbeat.observability.logging import get_logger

_log = get_logger(__name__)

#: Edits of the channel's window left to the now-playing message. One is what keeps its next
#: edit (a pause, a skip) from ever waiting behind the lyrics; more would only slow the
#: lyrics, less would let them delay it: not a choice for an operator.
RESERVE = 1
#: How long past the last line (or its end) the message still follows, for late seeks back
#: (a grace period of the feature, not a resource limit).
TAIL_MS = 10_000


@dataclass(frozen=True, slots=True)
class LyricsOptions:
    """The operator's limits of live lyrics (defaults: :class:`GatewaySettings`)."""

    edit_interval_s: float
    lines_before: int
    lines_after: int
    follow_max_s: float

    @classmethod
    def of(cls, settings: GatewaySettings) -> LyricsOptions:
        return cls(
            edit_interval_s=settings.lyrics_edit_interval_s,
            lines_before=settings.lyrics_lines_before,
            lines_after=settings.lyrics_lines_after,
            follow_max_s=settings.lyrics_follow_max_s,
        )


#: The guild's last ``ui:now`` state and the Unix time it held (None: none known).
Snapshot = Callable[[int], tuple[NowPlayingState, float] | None]


@dataclass(frozen=True, slots=True)
class Playback:
    """Where the track was at a moment: a state's position and the Unix time it held."""

    identifier: str | None
    position_ms: int
    at: float
    paused: bool

    @classmethod
    def of(cls, state: NowPlayingState, at: float) -> Playback:
        track = state.track
        return cls(track.identifier if track else None, state.position_ms, at, state.paused)

    def position_at(self, now: float) -> int:
        """The position at ``now``: extrapolated while playing, frozen while paused."""
        if self.paused:
            return self.position_ms
        return self.position_ms + max(0, int((now - self.at) * 1000))


def next_change_ms(lines: Sequence[LyricLine], position_ms: int) -> int | None:
    """Milliseconds from ``position_ms`` until the sung line changes (the next line starts or
    the current one ends); None when nothing follows."""
    starts = [line.timestamp_ms for line in lines]
    index = bisect_right(starts, position_ms)
    candidates: list[int] = []
    if index < len(starts):
        candidates.append(starts[index] - position_ms)
    if index > 0:
        current = lines[index - 1]
        if current.duration_ms:
            end = current.timestamp_ms + current.duration_ms
            if end > position_ms:
                candidates.append(end - position_ms)
    return min(candidates) if candidates else None


def last_ms(lines: Sequence[LyricLine]) -> int:
    """Where the last line ends (its start when it has no duration)."""
    return max((line.timestamp_ms + (line.duration_ms or 0) for line in lines), default=0)


Shown = tuple[int, int, int | None]


@dataclass(eq=False)
class Live:
    """One guild's live lyrics message."""

    guild_id: int
    channel_id: int
    message_id: int
    identifier: str
    title: str
    author: str | None
    lines: list[LyricLine]
    locale: str
    playback: Playback
    deadline: float
    shown: Shown | None = None
    last_edit: float = float("-inf")
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None
    edits: int = 0


class LyricsView:
    """Starts, follows and stops each guild's live lyrics message."""

    def __init__(
        self,
        bot: discord.Client,
        embeds: EmbedFactory,
        budget: ChannelBudget,
        pacer: Pacer,
        snapshot: Snapshot,
        *,
        options: LyricsOptions,
        clock: Callable[[], float] = time.time,
        reserve: int = RESERVE,
    ) -> None:
        self._bot = bot
        self._embeds = embeds
        self._budget = budget
        self._pacer = pacer
        self._snapshot = snapshot
        self._clock = clock
        self._options = options
        self._reserve = reserve
        self._live: dict[int, Live] = {}
        self._closed = False

    # -- queries (status and tests) ------------------------------------------------------------

    def live_of(self, guild_id: int) -> Live | None:
        return self._live.get(guild_id)

    # -- starting --------------------------------------------------------------------------

    def follows(self, reply: LyricsReply) -> bool:
        """Whether the reply's lyrics can follow playback: timed lines of the playing track."""
        payload = reply.payload
        if self._closed or not payload.lines or payload.identifier is None:
            return False
        if payload.target.context.text_channel_id is None:
            return False
        known = self._snapshot(reply.guild_id)
        if known is None or known[0].track is None:
            return False
        return known[0].track.identifier == payload.identifier

    async def start(self, reply: LyricsReply) -> str | None:
        """Post the live message for ``reply`` and follow playback; its link, or None when
        the lyrics cannot follow playback (the reply is then shown as plain lyrics)."""
        if not self.follows(reply):
            return None
        known = self._snapshot(reply.guild_id)
        assert known is not None
        payload = reply.payload
        channel_id = payload.target.context.text_channel_id
        assert channel_id is not None
        assert payload.identifier is not None
        guild_id = reply.guild_id
        old = self._live.pop(guild_id, None)
        if old is not None:
            await self._end(old)
        lines = sorted(payload.lines, key=lambda line: line.timestamp_ms)
        locale = self._guild_locale(guild_id)
        now = self._clock()
        playback = Playback.of(*known)
        shown = self._window(lines, playback.position_at(now))
        embed = self._embeds.live_lyrics(payload.title, payload.author, lines, shown, locale)
        channel = self._bot.get_partial_messageable(channel_id, guild_id=guild_id)
        await self._pacer.wait()
        try:
            async with discord_operation(MESSAGE_SEND):
                sent = await channel.send(embed=embed)
        except discord.HTTPException as error:
            _log.warning(
                "live lyrics not posted",
                guild_id=guild_id,
                channel_id=channel_id,
                status=error.status,
            )
            return None
        live = Live(
            guild_id=guild_id,
            channel_id=channel_id,
            message_id=sent.id,
            identifier=payload.identifier,
            title=payload.title,
            author=payload.author,
            lines=lines,
            locale=locale,
            playback=playback,
            deadline=now + self._options.follow_max_s,
            shown=shown,
            last_edit=now,
        )
        self._live[guild_id] = live
        live.task = asyncio.create_task(self._follow(live), name=f"lyrics-{guild_id}")
        _log.info(
            "live lyrics started",
            guild_id=guild_id,
            message_id=sent.id,
            identifier=payload.identifier,
            lines=len(lines),
        )
        return sent.jump_url

    # -- ui:now ----------------------------------------------------------------------------

    def on_state(self, guild_id: int, state: NowPlayingState | None, at: float) -> None:
        """A new ``ui:now`` state (None: the player stopped): the position to follow, or the
        end of the live message when another track plays."""
        live = self._live.get(guild_id)
        if live is None:
            return
        if state is not None:
            live.playback = Playback.of(state, at)
        else:
            live.playback = Playback(None, 0, at, True)
        live.wake.set()

    # -- following -------------------------------------------------------------------------

    async def _follow(self, live: Live) -> None:
        try:
            while True:
                live.wake.clear()
                now = self._clock()
                playback = live.playback
                if playback.identifier != live.identifier:
                    _log.info("live lyrics stopped: the track changed", guild_id=live.guild_id)
                    break
                if now >= live.deadline:
                    _log.info("live lyrics stopped: time bound", guild_id=live.guild_id)
                    break
                position = playback.position_at(now)
                if not playback.paused and position > last_ms(live.lines) + TAIL_MS:
                    _log.info("live lyrics stopped: past the last line", guild_id=live.guild_id)
                    await self._show(live, position)  # the last lines, as sung
                    return
                timeout = await self._step(live, position, now)
                timeout = min(timeout, live.deadline - now) if timeout is not None else None
                if timeout is None:
                    await live.wake.wait()
                else:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(live.wake.wait(), max(timeout, 0.02))
        except asyncio.CancelledError:
            raise
        except Exception:
            _log.exception("live lyrics failed", guild_id=live.guild_id)
        finally:
            if self._live.get(live.guild_id) is live:
                del self._live[live.guild_id]
        await self._delete(live)

    def _window(self, lines: Sequence[LyricLine], position: int) -> Shown:
        options = self._options
        return window(lines, position, before=options.lines_before, after=options.lines_after)

    async def _step(self, live: Live, position: int, now: float) -> float | None:
        """Edit when the window changed and the budget allows; seconds until the next look
        (None: only a new state changes anything)."""
        shown = self._window(live.lines, position)
        if shown != live.shown:
            wait = max(
                live.last_edit + self._options.edit_interval_s - now,
                self._budget.free_in(live.channel_id, reserve=self._reserve),
            )
            if wait > 0 or not self._budget.try_take(live.channel_id, reserve=self._reserve):
                return max(wait, 0.05)
            await self._edit(live, shown)
            return 0.0  # look again at once: time went by during the edit
        if live.playback.paused:
            return None
        change = next_change_ms(live.lines, position)
        if change is None:
            return (last_ms(live.lines) + TAIL_MS - position) / 1000 + 0.05
        return change / 1000 + 0.01

    async def _show(self, live: Live, position: int) -> None:
        shown = self._window(live.lines, position)
        if shown != live.shown and self._budget.try_take(live.channel_id, reserve=self._reserve):
            await self._edit(live, shown)

    async def _edit(self, live: Live, shown: Shown) -> None:
        embed = self._embeds.live_lyrics(live.title, live.author, live.lines, shown, live.locale)
        channel = self._bot.get_partial_messageable(live.channel_id, guild_id=live.guild_id)
        await self._pacer.wait()
        live.last_edit = self._clock()
        try:
            async with discord_operation(MESSAGE_EDIT):
                await channel.get_partial_message(live.message_id).edit(embed=embed)
        except discord.NotFound:
            _log.info("live lyrics message gone", guild_id=live.guild_id)
            live.identifier = ""  # nothing to follow any more
            return
        except discord.HTTPException as error:
            _log.warning(
                "live lyrics edit refused",
                guild_id=live.guild_id,
                message_id=live.message_id,
                status=error.status,
            )
            return  # the next look tries again (the window still differs)
        live.shown = shown
        live.edits += 1

    # -- stopping --------------------------------------------------------------------------

    async def _end(self, live: Live) -> None:
        """Stop a live message that is replaced (and delete it)."""
        if live.task is not None and not live.task.done():
            live.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await live.task
        await self._delete(live)

    async def _delete(self, live: Live) -> None:
        channel = self._bot.get_partial_messageable(live.channel_id, guild_id=live.guild_id)
        await self._pacer.wait()
        try:
            async with discord_operation(MESSAGE_DELETE):
                await channel.get_partial_message(live.message_id).delete()
        except discord.HTTPException as error:
            if not isinstance(error, discord.NotFound):
                _log.warning("live lyrics not deleted", guild_id=live.guild_id, status=error.status)

    async def close(self) -> None:
        """Stop following (the messages stay as they are)."""
        self._closed = True
        tasks = [live.task for live in self._live.values() if live.task is not None]
        self._live.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _guild_locale(self, guild_id: int) -> str:
        guild = self._bot.get_guild(guild_id)
        locale = getattr(guild, "preferred_locale", None) if guild is not None else None
        return str(getattr(locale, "value", locale) or "en-US")
