"""Live lyrics follow the position of the ``ui:now`` states, within the channel's budget.

The position is driven by states (their position and the time they held), never by waiting:
the view's clock is the test's, and Discord is a recording stand-in.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import discord
import pytest

from backbeat.config import GatewaySettings
from backbeat.domain.messages import DiscordContext, NowPlayingState, ReplyTarget, TrackSummary
from backbeat.domain.messages.to_discord import LyricLine, LyricsPayload, LyricsReply
from backbeat.gateway.ui.budget import ChannelBudget
from backbeat.gateway.ui.embeds import Branding, EmbedFactory
from backbeat.gateway.ui.lyrics_view import LyricsOptions, LyricsView, Playback, next_change_ms
from backbeat.gateway.ui.pacer import Pacer

GUILD = 81_000_000_000_000_001
CHANNEL = 900
#: A line every 30 s: "line 0" at 0 s, "line 1" at 30 s…
LINES = [LyricLine(timestamp_ms=30_000 * n, line=f"line {n}") for n in range(8)]


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@dataclass
class Sent:
    id: int
    jump_url: str
    embeds: list[discord.Embed] = field(default_factory=list)
    deleted: bool = False


class FakeChannel:
    """Discord as far as the view talks to it: send, then edit or delete by id."""

    def __init__(self, log: dict[int, Sent]) -> None:
        self._log = log

    async def send(self, *, embed: discord.Embed) -> Sent:
        message_id = 1000 + len(self._log)
        sent = Sent(message_id, f"https://discord.test/{message_id}", [embed])
        self._log[message_id] = sent
        return sent

    def get_partial_message(self, message_id: int) -> FakeMessage:
        return FakeMessage(self._log[message_id])


class FakeMessage:
    def __init__(self, sent: Sent) -> None:
        self._sent = sent

    async def edit(self, *, embed: discord.Embed) -> None:
        self._sent.embeds.append(embed)

    async def delete(self) -> None:
        self._sent.deleted = True


class FakeBot:
    def __init__(self) -> None:
        self.messages: dict[int, Sent] = {}

    def get_partial_messageable(self, channel_id: int, *, guild_id: int) -> FakeChannel:
        assert channel_id == CHANNEL
        return FakeChannel(self.messages)

    def get_guild(self, guild_id: int) -> None:
        return None


def track(identifier: str = "song") -> TrackSummary:
    return TrackSummary(
        title="Song",
        author="Artist",
        identifier=identifier,
        source_name="youtube",
        length_ms=300_000,
    )


def state(position_ms: int, *, paused: bool = False, identifier: str = "song") -> NowPlayingState:
    return NowPlayingState(track=track(identifier), position_ms=position_ms, paused=paused)


def reply(lines: list[LyricLine] = LINES, identifier: str | None = "song") -> LyricsReply:
    context = DiscordContext(user_id=5, text_channel_id=CHANNEL)
    return LyricsReply(
        guild_id=GUILD,
        payload=LyricsPayload(
            target=ReplyTarget(context=context),
            title="Song",
            author="Artist",
            identifier=identifier,
            text="\n".join(line.line for line in lines) or None,
            lines=lines,
        ),
    )


@dataclass
class Rig:
    view: LyricsView
    bot: FakeBot
    clock: Clock
    budget_clock: Clock
    budget: ChannelBudget
    states: dict[int, tuple[NowPlayingState, float]]

    def play(self, new: NowPlayingState | None, *, age_s: float = 0.0) -> None:
        """A ``ui:now`` state that held ``age_s`` seconds ago."""
        at = self.clock.now - age_s
        if new is None:
            self.states.pop(GUILD, None)
        else:
            self.states[GUILD] = (new, at)
        self.view.on_state(GUILD, new, at)

    def message(self) -> Sent:
        [sent] = self.bot.messages.values()
        return sent


DEFAULTS = LyricsOptions.of(GatewaySettings(_env_file=None))  # type: ignore[call-arg]


def make_rig(**options: Any) -> Rig:
    bot = FakeBot()
    clock = Clock(1_000_000.0)
    budget_clock = Clock(50.0)
    budget = ChannelBudget(clock=budget_clock)
    states: dict[int, tuple[NowPlayingState, float]] = {}
    view = LyricsView(
        bot,  # type: ignore[arg-type]
        EmbedFactory(Branding(), clock=clock),
        budget,
        Pacer(),
        states.get,
        options=replace(DEFAULTS, **{"edit_interval_s": 0.0, **options}),
        clock=clock,
    )
    return Rig(view, bot, clock, budget_clock, budget, states)


def sung(embed: discord.Embed) -> str | None:
    """The highlighted line of a live lyrics embed."""
    for row in (embed.description or "").splitlines():
        if row.startswith("▶ "):
            return row.removeprefix("▶ **").removesuffix("**")
    return None


async def until(probe: Callable[[], object], within: float = 10.0) -> None:
    """Poll ``probe`` until true (bounded): the follower runs between the polls."""
    async with asyncio.timeout(within):
        while True:
            if probe():
                return
            await asyncio.sleep(0.005)


async def settled(rig: Rig) -> None:
    """Let the follower run until it waits again."""
    for _ in range(20):
        await asyncio.sleep(0)


def test_the_position_is_extrapolated_while_playing_and_frozen_while_paused() -> None:
    playing = Playback("song", 10_000, at=100.0, paused=False)
    assert playing.position_at(112.5) == 22_500
    assert playing.position_at(90.0) == 10_000  # a clock behind the state's: no going back
    assert Playback("song", 10_000, at=100.0, paused=True).position_at(500.0) == 10_000
    timed = [
        LyricLine(timestamp_ms=0, duration_ms=5_000, line="a"),
        LyricLine(timestamp_ms=30_000, line="b"),
    ]
    assert next_change_ms(timed, 1_000) == 4_000  # "a" ends first
    assert next_change_ms(timed, 6_000) == 24_000
    assert next_change_ms(timed, 40_000) is None


async def test_timed_lines_advance_with_the_states_position() -> None:
    rig = make_rig()
    rig.play(state(5_000))
    link = await rig.view.start(reply())
    message = rig.message()
    assert link == message.jump_url
    assert sung(message.embeds[-1]) == "line 0"
    assert "🎤" in (message.embeds[-1].title or "")

    rig.play(state(65_000))  # a seek forward
    await until(lambda: sung(message.embeds[-1]) == "line 2")
    rig.play(state(35_000))  # and back
    await until(lambda: sung(message.embeds[-1]) == "line 1")
    # A state that held 60 s ago at 35 s: playing since, so now at 95 s.
    rig.play(state(35_000), age_s=60.0)
    await until(lambda: sung(message.embeds[-1]) == "line 3")
    edits = len(message.embeds)
    rig.play(state(96_000))  # same line: nothing to edit
    await settled(rig)
    assert len(message.embeds) == edits
    await rig.view.close()


async def test_the_lines_shown_around_the_sung_one_follow_the_options() -> None:
    rig = make_rig(lines_before=1, lines_after=1)
    rig.play(state(95_000))
    await rig.view.start(reply())
    shown = rig.message().embeds[-1].description or ""
    assert [row for row in shown.splitlines() if "line" in row] == [
        "line 2",
        "▶ **line 3**",
        "line 4",
    ]
    await rig.view.close()


async def test_a_paused_track_keeps_its_line_however_old_the_state() -> None:
    rig = make_rig()
    rig.play(state(31_000))
    await rig.view.start(reply())
    message = rig.message()
    assert sung(message.embeds[-1]) == "line 1"
    rig.play(state(31_000, paused=True), age_s=120.0)  # paused two minutes ago
    await settled(rig)
    assert sung(message.embeds[-1]) == "line 1"
    assert len(message.embeds) == 1
    rig.play(state(31_000), age_s=60.0)  # resumed a minute ago: at 91 s
    await until(lambda: sung(message.embeds[-1]) == "line 3")
    await rig.view.close()


@pytest.mark.parametrize("change", ["other track", "stopped"])
async def test_following_stops_when_the_track_changes(change: str) -> None:
    rig = make_rig()
    rig.play(state(1_000))
    await rig.view.start(reply())
    message = rig.message()
    rig.play(state(1_000, identifier="next") if change == "other track" else None)
    await until(lambda: message.deleted)
    assert rig.view.live_of(GUILD) is None
    edits = len(message.embeds)
    rig.play(state(200_000))
    await settled(rig)
    assert len(message.embeds) == edits


async def test_following_stops_after_its_bound() -> None:
    rig = make_rig(follow_max_s=600.0)
    rig.play(state(1_000))
    await rig.view.start(reply())
    message = rig.message()
    rig.clock.now += 601.0
    rig.play(state(1_000, paused=True))
    await until(lambda: message.deleted)
    assert rig.view.live_of(GUILD) is None


async def test_edits_take_only_what_the_now_playing_message_leaves() -> None:
    rig = make_rig()
    rig.play(state(1_000))
    await rig.view.start(reply())
    message = rig.message()
    for _ in range(3):
        rig.budget.note(CHANNEL)  # the now-playing message edited three times
    rig.play(state(31_000))
    await until(lambda: sung(message.embeds[-1]) == "line 1")  # the 4th edit of the window
    rig.play(state(61_000))
    await settled(rig)
    rig.play(state(61_000))  # woken again: still no budget (one edit is left to now-playing)
    await settled(rig)
    assert sung(message.embeds[-1]) == "line 1"
    assert rig.budget.used(CHANNEL) == 4
    rig.budget_clock.now += 5.0  # the window moved on
    rig.play(state(61_000))
    await until(lambda: sung(message.embeds[-1]) == "line 2")
    await rig.view.close()


async def test_edits_are_spaced_by_the_minimum_interval() -> None:
    rig = make_rig(edit_interval_s=2.0)
    rig.play(state(1_000))
    await rig.view.start(reply())
    message = rig.message()
    rig.play(state(31_000))
    await settled(rig)
    assert len(message.embeds) == 1  # posted "now" on the view's clock: too soon
    rig.clock.now += 2.0
    rig.play(state(31_000))
    await until(lambda: sung(message.embeds[-1]) == "line 1")
    await rig.view.close()


async def test_untimed_lyrics_and_other_tracks_are_not_followed() -> None:
    rig = make_rig()
    rig.play(state(1_000))
    assert await rig.view.start(reply(lines=[])) is None
    assert await rig.view.start(reply(identifier="another")) is None
    assert await rig.view.start(reply(identifier=None)) is None
    assert rig.bot.messages == {}


async def test_a_new_live_message_replaces_the_guilds_old_one() -> None:
    rig = make_rig()
    rig.play(state(1_000))
    await rig.view.start(reply())
    await rig.view.start(reply())
    first, second = rig.bot.messages.values()
    assert first.deleted
    assert not second.deleted
    await rig.view.close()
    assert not second.deleted  # closing the gateway leaves the message as it is
