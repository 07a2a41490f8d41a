"""One handler per command type; :data:`HANDLERS` maps the wire type to it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Final

from backbeat.audio.handlers import autoplay_reject, controls, guild, lyrics, play, queueing, search

CommandHandler = Callable[..., Awaitable[None]]

#: Handlers by command type (a type missing here is answered ``unsupported``).
HANDLERS: Final[Mapping[str, CommandHandler]] = {
    "play": play.play,
    "playnow": play.play,
    "playnext": play.play,
    "pause": controls.pause,
    "resume": controls.pause,
    "toggle": controls.pause,
    "seek": controls.seek,
    "volume": controls.volume,
    "filters": controls.filters,
    "stop": controls.stop,
    "disconnect": controls.disconnect,
    "summon": controls.summon,
    "skip": queueing.skip,
    "voteskip": queueing.voteskip,
    "previous": queueing.previous,
    "loop": queueing.loop,
    "shuffle": queueing.shuffle,
    "remove": queueing.remove,
    "move": queueing.move,
    "clear": queueing.clear,
    "queue": queueing.queue_page,
    "nowplaying": queueing.nowplaying,
    "autoplay": guild.autoplay,
    "autoplay-reject": autoplay_reject.autoplay_reject,
    "lyrics": lyrics.lyrics,
    "stay": guild.stay,
    "settings-changed": guild.settings_changed,
    "search": search.search,
    "suggest": search.suggest,
}

#: Commands that change nothing: no applied-id row, no audit row.
READ_ONLY: Final[frozenset[str]] = frozenset(
    {"queue", "nowplaying", "search", "suggest", "lyrics", "settings-changed"}
)

#: Commands whose work reads the session and current item and changes only session fields,
#: both through ``Audio.session_and_current`` and ``Audio.set_session``: in a batch they
#: stage their change in memory (``backbeat.audio.batch_sessions``), no statement of their own.
SESSION_ONLY: Final[frozenset[str]] = frozenset(
    {"pause", "resume", "toggle", "seek", "volume", "filters", "loop"}
)

__all__ = ["HANDLERS", "READ_ONLY", "SESSION_ONLY", "CommandHandler"]
