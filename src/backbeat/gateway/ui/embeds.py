"""The embed factory: every embed the gateway shows, with the deployment's colour and footer.

Progress is written as Discord timestamps (``<t:…:R>``), which every client counts itself,
so a playing track's message needs no edits to move.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import discord

from backbeat.config import GatewaySettings
from backbeat.domain.i18n import Translator
from backbeat.domain.messages import NowPlayingState, TrackSummary
from backbeat.domain.messages.common import LoopMode
from backbeat.domain.messages.to_discord import (
    LyricLine,
    QueuePagePayload,
    SearchResultsPayload,
)
from backbeat.gateway.texts import duration

_LOOP_LABEL = {LoopMode.OFF: "off", LoopMode.TRACK: "track", LoopMode.QUEUE: "queue"}
_MAX_DESCRIPTION = 4096


@dataclass(frozen=True, slots=True)
class Branding:
    """Colour, footer and icon (from settings now, per guild from the panel later)."""

    color: int = 0x5865F2
    footer: str = "Backbeat"
    icon_url: str | None = None

    @classmethod
    def from_settings(cls, settings: GatewaySettings) -> Branding:
        return cls(settings.embed_color, settings.embed_footer, settings.embed_icon_url)


def _link(track: TrackSummary) -> str:
    title = discord.utils.escape_markdown(track.title) or "Unknown title"
    return f"[{title}]({track.uri})" if track.uri else f"**{title}**"


class EmbedFactory:
    """Builds embeds; ``clock`` (Unix seconds) places the progress timestamps."""

    def __init__(
        self,
        branding: Branding,
        clock: Callable[[], float] = time.time,
        translator: Translator | None = None,
    ) -> None:
        self.branding = branding
        self._clock = clock
        self.tr = translator or Translator()

    def _embed(self, **fields: object) -> discord.Embed:
        embed = discord.Embed(color=self.branding.color, **fields)  # type: ignore[arg-type]
        embed.set_footer(text=self.branding.footer, icon_url=self.branding.icon_url)
        return embed

    def progress(self, state: NowPlayingState, locale: str = "en-US") -> str:
        """Elapsed and remaining time; timestamps while playing, fixed text when paused."""
        track = state.track
        if track is None:
            return ""
        tr = self.tr
        if track.is_stream:
            return tr(locale, "np.live")
        total = duration(track.length_ms)
        if state.paused:
            return tr(locale, "np.paused_at", position=duration(state.position_ms), total=total)
        started = int(self._clock() - state.position_ms / 1000)
        ends = started + track.length_ms // 1000
        return tr(locale, "np.progress", started=started, ends=ends, total=total)

    def autoplay_reason(self, state: NowPlayingState, locale: str = "en-US") -> str | None:
        """Why autoplay chose the track, in ``locale`` ("similar to X", "more from Y",
        "genre: lofi"); audio's English line when it sent no parts; None for users' tracks."""
        if not state.is_autoplay_track:
            return None
        why = state.autoplay_why
        if why is not None:
            return self.tr(locale, f"np.reason.{why.kind}", subject=why.subject)
        return state.autoplay_reason

    def now_playing(self, state: NowPlayingState, locale: str = "en-US") -> discord.Embed:
        """The now-playing message: track, progress, requester and the player's settings, in
        the guild's language (``locale``: its preferred locale)."""
        tr = self.tr
        track = state.track
        if track is None:
            embed = self._embed(
                title=tr(locale, "np.nothing"), description=tr(locale, "queue.empty")
            )
        else:
            heading = tr(locale, "np.paused" if state.paused else "np.playing")
            if state.is_autoplay_track:
                heading += tr(locale, "np.autoplay_pick")
                reason = self.autoplay_reason(state, locale)
                if reason:  # why autoplay chose it: "similar to X"
                    heading += f" ({reason})"
            embed = self._embed(
                title=heading[:256],
                description=f"{_link(track)}\n{self.progress(state, locale)}",
            )
            embed.add_field(
                name=tr(locale, "np.artist"),
                value=track.author or tr(locale, "np.unknown"),
                inline=True,
            )
            if state.requester_id is not None:
                embed.add_field(
                    name=tr(locale, "np.requested_by"),
                    value=f"<@{state.requester_id}>",
                    inline=True,
                )
            if track.artwork_url:
                embed.set_thumbnail(url=track.artwork_url)
        embed.add_field(name=tr(locale, "np.volume"), value=f"{state.volume}%", inline=True)
        loop = tr(locale, f"value.mode.{_LOOP_LABEL[state.loop]}")
        embed.add_field(name=tr(locale, "np.loop"), value=loop, inline=True)
        mode = tr(locale, f"value.mode.{state.autoplay_mode.value}")
        autoplay = (
            f"{tr(locale, 'value.on')} ({mode})" if state.autoplay else tr(locale, "value.off")
        )
        embed.add_field(name=tr(locale, "np.autoplay"), value=autoplay, inline=True)
        filters = ", ".join(state.filters) if state.filters else tr(locale, "settings.none")
        embed.add_field(name=tr(locale, "np.filters"), value=filters, inline=True)
        count = state.queue_length
        queued = tr(locale, "np.track_one") if count == 1 else tr(locale, "np.tracks", count=count)
        if count:
            queued += f" · {duration(state.queue_length_ms)}"
        embed.add_field(name=tr(locale, "np.up_next"), value=queued, inline=True)
        if state.stay:
            embed.add_field(name="24/7", value=tr(locale, "value.on"), inline=True)
        return embed

    def queue_page(self, page: QueuePagePayload, locale: str = "en-US") -> discord.Embed:
        """A page of the queue, in the reader's locale."""
        tr = self.tr
        lines = []
        if page.now_playing is not None:
            lines.append(
                f"{tr(locale, 'queue.now')} {_link(page.now_playing)} "
                f"({duration(page.now_playing.length_ms)})"
            )
        for entry in page.entries:
            mark = " ♾️" if entry.is_autoplay else ""
            length = duration(entry.track.length_ms)
            lines.append(f"`{entry.position}.` {_link(entry.track)} ({length}){mark}")
        if not page.entries:
            lines.append(tr(locale, "queue.empty"))
        embed = self._embed(
            title=tr(locale, "queue.title"), description="\n".join(lines)[:_MAX_DESCRIPTION]
        )
        embed.add_field(
            name=tr(locale, "queue.total"),
            value=tr(
                locale, "queue.tracks", count=page.total, length=duration(page.total_length_ms)
            ),
        )
        embed.add_field(name=tr(locale, "queue.page"), value=f"{page.page}/{page.pages}")
        return embed

    def search_results(self, results: SearchResultsPayload, locale: str = "en-US") -> discord.Embed:
        lines = [
            f"`{number}.` {_link(track)} — {discord.utils.escape_markdown(track.author)}"
            for number, track in enumerate(results.tracks, start=1)
        ] or [self.tr(locale, "search.nothing")]
        title = self.tr(locale, "search.title", query=results.query)[:256]
        return self._embed(title=title, description="\n".join(lines)[:_MAX_DESCRIPTION])

    def lyrics(
        self, title: str, author: str | None, text: str | None, locale: str = "en-US"
    ) -> discord.Embed:
        heading = self.tr(locale, "lyrics.title", title=title) + (f" — {author}" if author else "")
        body = text if text else self.tr(locale, "lyrics.none")
        if len(body) > _MAX_DESCRIPTION:
            body = body[: _MAX_DESCRIPTION - 1] + "…"
        return self._embed(title=heading[:256], description=body)

    def live_lyrics(
        self,
        title: str,
        author: str | None,
        lines: Sequence[LyricLine],
        shown: tuple[int, int, int | None],
        locale: str = "en-US",
    ) -> discord.Embed:
        """Live lyrics: the window ``shown`` (``first``, ``end``, the sung line or None) of
        the timed ``lines``, the sung one bold and marked."""
        first, end, current = shown
        rows = ["…"] if first > 0 else []
        for index in range(first, end):
            text = discord.utils.escape_markdown(lines[index].line.strip()) or "♪"
            rows.append(f"▶ **{text}**" if index == current else text)
        if end < len(lines):
            rows.append("…")
        heading = "🎤 " + self.tr(locale, "lyrics.title", title=title)
        heading += f" — {author}" if author else ""
        body = "\n".join(rows)[:_MAX_DESCRIPTION] or "♪"
        return self._embed(title=heading[:256], description=body)

    def fields(
        self, title: str, rows: list[tuple[str, str]], description: str | None = None
    ) -> discord.Embed:
        """A titled embed of inline name/value fields (the settings)."""
        embed = self._embed(title=title[:256], description=description)
        for name, value in rows[:25]:
            embed.add_field(name=name[:256], value=value[:1024] or "—", inline=True)
        return embed

    def notice(self, text: str) -> discord.Embed:
        return self._embed(description=text[:_MAX_DESCRIPTION])
