"""The now-playing buttons and their custom ids, ``bb:<action>:<guild_id>``.

Clicks are dispatched by custom id (not by a view bound to one message), so the buttons of a
message posted before a gateway restart keep working. A track autoplay chose gets a third
row: "not this track" and "not this artist" (``autoplay-reject`` with that scope), labelled
in the guild's language.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

import discord

from backbeat.domain.i18n import Translator
from backbeat.domain.messages import NowPlayingState
from backbeat.domain.messages.common import LoopMode

PREFIX = "bb"


class Action(StrEnum):
    PAUSE = "pause"
    RESUME = "resume"
    SKIP = "skip"
    PREVIOUS = "previous"
    STOP = "stop"
    LOOP = "loop"
    SHUFFLE = "shuffle"
    VOLUME_DOWN = "voldown"
    VOLUME_UP = "volup"
    AUTOPLAY = "autoplay"
    QUEUE = "queue"
    NOT_THIS_TRACK = "nottrack"
    NOT_THIS_ARTIST = "notartist"


#: The "not this" buttons and the ``autoplay-reject`` scope each stands for.
REJECT_SCOPES: dict[Action, Literal["track", "artist"]] = {
    Action.NOT_THIS_TRACK: "track",
    Action.NOT_THIS_ARTIST: "artist",
}


@dataclass(frozen=True, slots=True)
class ButtonId:
    action: Action
    guild_id: int

    def __str__(self) -> str:
        return f"{PREFIX}:{self.action.value}:{self.guild_id}"

    @classmethod
    def parse(cls, custom_id: str) -> ButtonId | None:
        """The button a custom id names; None for ids that are not Backbeat's."""
        parts = custom_id.split(":")
        if len(parts) != 3 or parts[0] != PREFIX or not parts[2].isdigit():
            return None
        try:
            return cls(Action(parts[1]), int(parts[2]))
        except ValueError:
            return None


_LOOP_EMOJI = {LoopMode.OFF: "🔁", LoopMode.TRACK: "🔂", LoopMode.QUEUE: "🔁"}


def _button(
    action: Action,
    guild_id: int,
    *,
    label: str | None = None,
    emoji: str,
    style: discord.ButtonStyle = discord.ButtonStyle.secondary,
    disabled: bool,
    row: int,
) -> discord.ui.Button[discord.ui.View]:
    return discord.ui.Button(
        style=style,
        label=label,
        emoji=emoji,
        custom_id=str(ButtonId(action, guild_id)),
        disabled=disabled,
        row=row,
    )


def controls(
    guild_id: int,
    state: NowPlayingState | None,
    *,
    disabled: bool = False,
    tr: Translator | None = None,
    locale: str = "en-US",
) -> discord.ui.View:
    """The control buttons for a state (all disabled while a click is in flight); the "not
    this" row only while an autoplay pick plays, its labels in ``locale``."""
    view = discord.ui.View(timeout=None)
    paused = state is not None and state.paused
    loop = state.loop if state is not None else LoopMode.OFF
    autoplay = state is not None and state.autoplay
    primary = discord.ButtonStyle.primary
    success = discord.ButtonStyle.success
    first_row = [
        _button(Action.PREVIOUS, guild_id, emoji="⏮️", disabled=disabled, row=0),
        _button(Action.RESUME, guild_id, emoji="▶️", style=primary, disabled=disabled, row=0)
        if paused
        else _button(Action.PAUSE, guild_id, emoji="⏸️", style=primary, disabled=disabled, row=0),
        _button(Action.SKIP, guild_id, emoji="⏭️", disabled=disabled, row=0),
        _button(
            Action.STOP,
            guild_id,
            emoji="⏹️",
            style=discord.ButtonStyle.danger,
            disabled=disabled,
            row=0,
        ),
        _button(
            Action.LOOP,
            guild_id,
            emoji=_LOOP_EMOJI[loop],
            style=success if loop is not LoopMode.OFF else discord.ButtonStyle.secondary,
            disabled=disabled,
            row=0,
        ),
    ]
    second_row = [
        _button(Action.SHUFFLE, guild_id, emoji="🔀", disabled=disabled, row=1),
        _button(Action.VOLUME_DOWN, guild_id, emoji="🔉", disabled=disabled, row=1),
        _button(Action.VOLUME_UP, guild_id, emoji="🔊", disabled=disabled, row=1),
        _button(
            Action.AUTOPLAY,
            guild_id,
            emoji="♾️",
            style=success if autoplay else discord.ButtonStyle.secondary,
            disabled=disabled,
            row=1,
        ),
        _button(Action.QUEUE, guild_id, emoji="📜", disabled=disabled, row=1),
    ]
    third_row = []
    if state is not None and state.track is not None and state.is_autoplay_track:
        texts = tr or Translator()
        third_row = [
            _button(
                Action.NOT_THIS_TRACK,
                guild_id,
                label=texts(locale, "np.not_this_track"),
                emoji="👎",
                disabled=disabled,
                row=2,
            ),
            _button(
                Action.NOT_THIS_ARTIST,
                guild_id,
                label=texts(locale, "np.not_this_artist"),
                emoji="🚫",
                style=discord.ButtonStyle.danger,
                disabled=disabled,
                row=2,
            ),
        ]
    for item in first_row + second_row + third_row:
        view.add_item(item)
    view.stop()  # rendered only: clicks are dispatched by custom id, not through this view
    return view


def disabled_copy(message: discord.Message) -> discord.ui.View:
    """The message's own buttons, all disabled (when no state is known to render from)."""
    view = discord.ui.View.from_message(message, timeout=None)
    for item in view.children:
        if isinstance(item, discord.ui.Button):
            item.disabled = True
    view.stop()
    return view
