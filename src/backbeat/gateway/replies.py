"""Finishing the conversation: a command's correlated reply shown to the user.

While the interaction token is fresh the reply replaces the "Processing…" response (an edit
of the original response when this process still holds the interaction, else an ephemeral
followup through the token); a button click gets a followup only for errors and views (the
message itself shows the effect). Once the token has expired, the reply goes to the text
channel as a message that deletes itself after a while.

Texts are rendered in the locale of the user the reply is for (its target's context):
notices from their key and parameters, error replies from their code and parameters (the
English ``message`` when no catalogue knows the code). Queue pages come with page buttons,
search results with a select menu (:mod:`backbeat.gateway.menus`). A reply to a component
that edits its own message (a page button, a pick) replaces that message.

Lyrics with timed lines of the track playing now are handed to the live lyrics
(:class:`~backbeat.gateway.ui.lyrics_view.LyricsView`): the user is told where they follow
the song; other lyrics are shown as text, "no lyrics found" when there are none.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import discord

from backbeat.domain.messages import Envelope, ReplyTarget
from backbeat.domain.messages.to_discord import (
    ErrorReply,
    LyricsReply,
    Notice,
    QueuePage,
    SearchResults,
)
from backbeat.gateway.menus import queue_pager, search_menu
from backbeat.gateway.ops import EDIT_ORIGINAL, FOLLOWUP, MESSAGE_SEND, discord_operation
from backbeat.gateway.pending import Origin, Pending, PendingReplies
from backbeat.gateway.texts import error_text, notice_text
from backbeat.gateway.ui.embeds import EmbedFactory
from backbeat.observability.logging import get_logger

_log = get_logger(__name__)

Reply = QueuePage | SearchResults | LyricsReply | Notice | ErrorReply
REPLY_TYPES = (QueuePage, SearchResults, LyricsReply, Notice, ErrorReply)

#: Origins whose reply replaces the interaction's own message (the "Processing…" response,
#: or the component's message for page buttons and picks).
_EDITS_ORIGINAL = frozenset({Origin.SLASH, Origin.MESSAGE})

#: Notices a button click still gets told (the message cannot show what they say).
_TOLD_FOR_BUTTONS = frozenset({"autoplay.rejected"})

#: Tokens are used only this long before Discord's 15 minutes, to leave room for the call.
_TOKEN_MARGIN_S = 30.0


@dataclass(frozen=True, slots=True)
class Rendered:
    content: str | None
    embed: discord.Embed | None
    view: discord.ui.View | None = None


class LiveLyrics(Protocol):
    async def start(self, reply: LyricsReply) -> str | None:
        """Follow playback with the reply's timed lines; the live message's link, or None."""
        ...


class ReplySender:
    """Renders a reply and delivers it where the user will see it."""

    def __init__(
        self,
        bot: discord.Client,
        pending: PendingReplies,
        embeds: EmbedFactory,
        *,
        delete_after_s: float = 20.0,
        clock: Callable[[], float] = time.time,
        live_lyrics: LiveLyrics | None = None,
    ) -> None:
        self._bot = bot
        self._pending = pending
        self._embeds = embeds
        self._delete_after_s = delete_after_s
        self._clock = clock
        self._live_lyrics = live_lyrics

    def render(self, reply: Reply) -> Rendered:
        """The reply's text or embed (and components) in its user's locale."""
        locale = reply.payload.target.context.locale
        tr = self._embeds.tr
        if isinstance(reply, Notice):
            params = reply.payload.params
            text = tr.text(locale, reply.payload.key, params)
            return Rendered(text or notice_text(reply.payload.key, params), None)
        if isinstance(reply, ErrorReply):
            error = reply.payload
            text = tr.text(locale, f"error.{error.code}", error.params)
            return Rendered(text or error_text(error.message), None)
        if isinstance(reply, QueuePage):
            page = reply.payload
            return Rendered(
                None,
                self._embeds.queue_page(page, locale),
                queue_pager(reply.guild_id, page, tr, locale),
            )
        if isinstance(reply, SearchResults):
            found = reply.payload
            return Rendered(
                None,
                self._embeds.search_results(found, locale),
                search_menu(reply.guild_id, found, tr, locale),
            )
        payload = reply.payload
        return Rendered(
            None, self._embeds.lyrics(payload.title, payload.author, payload.text, locale)
        )

    async def deliver(self, reply: Reply) -> Pending | None:
        """Show ``reply``; returns the pending command it answered, if this process knew it."""
        pending = self._pending.pop(reply.correlation_id)
        target: ReplyTarget = reply.payload.target
        rendered = await self._live(reply) or self.render(reply)
        if (
            pending is not None
            and pending.origin is Origin.BUTTON
            and isinstance(reply, Notice)
            and reply.payload.key not in _TOLD_FOR_BUTTONS
        ):
            return pending  # the now-playing message shows what the click did
        if pending is not None and pending.origin is Origin.AUTOCOMPLETE:
            return pending  # an autocomplete is answered with choices, never a message
        ref = target.context.interaction
        fresh = ref is not None and ref.is_fresh(self._clock() + _TOKEN_MARGIN_S)
        view = rendered.view or discord.utils.MISSING
        try:
            if fresh and pending is not None and pending.origin in _EDITS_ORIGINAL:
                assert pending.interaction is not None
                async with discord_operation(EDIT_ORIGINAL):
                    await pending.interaction.edit_original_response(
                        content=rendered.content, embed=rendered.embed, view=rendered.view
                    )
            elif fresh and ref is not None:
                webhook = (
                    pending.interaction.followup
                    if pending is not None and pending.interaction is not None
                    else self._followup(ref.application_id, ref.token)
                )
                async with discord_operation(FOLLOWUP):
                    await webhook.send(
                        content=rendered.content or discord.utils.MISSING,
                        embed=rendered.embed or discord.utils.MISSING,
                        view=view,
                        ephemeral=target.ephemeral,
                    )
            else:
                await self._to_channel(reply, rendered)
        except discord.HTTPException as error:
            _log.warning(
                "reply not delivered",
                guild_id=reply.guild_id,
                type=reply.type,
                status=error.status,
                code=error.code,
            )
            if fresh:
                await self._to_channel(reply, rendered)
        return pending

    async def _live(self, reply: Reply) -> Rendered | None:
        """Timed lyrics of the playing track: the live message, and a line saying where."""
        if self._live_lyrics is None or not isinstance(reply, LyricsReply):
            return None
        link = await self._live_lyrics.start(reply)
        if link is None:
            return None
        locale = reply.payload.target.context.locale
        tr = self._embeds.tr
        title = discord.utils.escape_markdown(reply.payload.title)
        return Rendered(tr(locale, "lyrics.live", title=title, link=link), None)

    def _followup(self, application_id: int, token: str) -> discord.Webhook:
        """The interaction's followup webhook, from its token alone (after a restart)."""
        data: dict[str, Any] = {"id": application_id, "type": 3, "token": token}
        return discord.Webhook.from_state(data=data, state=self._bot._connection)  # type: ignore[arg-type]

    async def _to_channel(self, reply: Envelope, rendered: Rendered) -> None:
        assert isinstance(reply, REPLY_TYPES)
        channel_id = reply.payload.target.context.text_channel_id
        if channel_id is None:
            _log.info("reply dropped: no fresh token and no text channel", guild_id=reply.guild_id)
            return
        user = reply.payload.target.context.user_id
        content = f"<@{user}> {rendered.content}" if rendered.content else f"<@{user}>"
        channel = self._bot.get_partial_messageable(channel_id, guild_id=reply.guild_id)
        try:
            async with discord_operation(MESSAGE_SEND):
                await channel.send(
                    content=content,
                    embed=rendered.embed or discord.utils.MISSING,
                    view=rendered.view or discord.utils.MISSING,
                    delete_after=self._delete_after_s,
                    allowed_mentions=discord.AllowedMentions(users=[discord.Object(user)]),
                )
        except discord.HTTPException as error:
            _log.warning(
                "reply not posted in the channel",
                guild_id=reply.guild_id,
                channel_id=channel_id,
                status=error.status,
            )
