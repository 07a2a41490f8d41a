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
    "play.started": "▶️ Playing **{title}** by {author}",
    "play.queued": "➕ Queued **{title}** by {author} at position {position}",
    "play.playlist": "➕ Queued {count} tracks from **{name}**",
    "pause.paused": "⏸️ Paused",
    "pause.resumed": "▶️ Resumed",
    "skip.done": "⏭️ Skipped",
    "voteskip.voted": "🗳️ Vote counted ({votes} so far)",
    "voteskip.skipped": "⏭️ Skipped by vote",
    "previous.done": "⏮️ Back to **{title}**",
    "stop.done": "⏹️ Stopped and cleared the queue",
    "disconnect.done": "👋 Left the voice channel",
    "volume.set": "🔊 Volume set to {percent}%",
    "loop.set": "🔁 Loop: {mode}",
    "shuffle.done": "🔀 Shuffled {count} tracks",
    "clear.done": "🧹 Cleared {removed} tracks",
    "remove.done": "➖ Removed **{title}**",
    "move.done": "↕️ Moved **{title}** to position {to_position}",
    "filters.set": "🎛️ Filter: {preset}",
    "autoplay.set": "♾️ Autoplay: {enabled} ({mode})",
    "stay.set": "🌙 24/7: {enabled}",
    "summon.done": "📣 Joined <#{channel_id}>",
    "nowplaying": "🎶 Now playing **{title}** by {author}",
}


def notice_text(key: str, params: Mapping[str, Param]) -> str:
    """The text of a notice: its template, or the key and parameters when it has none."""
    template = NOTICES.get(key)
    if template is not None:
        try:
            return template.format(**params)
        except (KeyError, IndexError, ValueError):
            pass  # a parameter this template needs is missing: say it plainly instead
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
