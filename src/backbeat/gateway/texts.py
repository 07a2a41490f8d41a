"""The English texts of the gateway's replies (the translation catalogue replaces this table).

Audio sends message *keys* with parameters (``notice``) and error *codes* with an English
``message`` and parameters (``error-reply``); the gateway turns them into text here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

Param = str | int | float | bool

PROCESSING: Final = "🎵 Processing…"
SLOW_DOWN: Final = "⏳ Slow down: try again in {seconds} s."
JOIN_VOICE: Final = "🔇 Join a voice channel first."
SAME_VOICE: Final = "🔇 Join the bot's voice channel to use its controls."
GUILD_ONLY: Final = "This command works in a server only."
UNAVAILABLE: Final = "⚠️ Backbeat cannot take commands right now; try again in a moment."
STALE_BUTTON: Final = "This control belongs to another server's player."

NOTICES: Final[Mapping[str, str]] = {
    "play.queued": "➕ Queued **{title}**",
    "play.started": "▶️ Playing **{title}**",
    "play.playlist": "➕ Queued {count} tracks from **{name}**",
    "pause.done": "⏸️ Paused",
    "paused": "⏸️ Paused",
    "resume.done": "▶️ Resumed",
    "resumed": "▶️ Resumed",
    "skip.done": "⏭️ Skipped",
    "skipped": "⏭️ Skipped",
    "stop.done": "⏹️ Stopped and cleared the queue",
    "stopped": "⏹️ Stopped and cleared the queue",
    "volume.set": "🔊 Volume set to {percent}%",
    "loop.set": "🔁 Loop: {mode}",
    "shuffle.done": "🔀 Shuffled",
    "autoplay.set": "♾️ Autoplay: {enabled}",
}


class _Keep(dict[str, Param]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def notice_text(key: str, params: Mapping[str, Param]) -> str:
    """The text of a notice: its template, or the key and parameters when it has none."""
    template = NOTICES.get(key)
    if template is not None:
        return template.format_map(_Keep(params))
    words = key.replace(".", " ").replace("_", " ").replace("-", " ").strip().capitalize()
    details = ", ".join(f"{name}: {value}" for name, value in params.items())
    return f"{words} ({details})" if details else words


def error_text(message: str) -> str:
    return f"⚠️ {message}"


def duration(ms: int) -> str:
    """``m:ss`` or ``h:mm:ss``."""
    seconds = max(0, ms) // 1000
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
