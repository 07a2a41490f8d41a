"""``autoplay-reject``: "not this" on an autoplay track.

Adds a typed blacklist entry to the guild's ServerConfiguration (``track:ID``, or with scope
``artist`` ``artist:NAME``) so autoplay never picks it again, and, when the rejected track
is the one playing, skips it in the same transaction (history ``skipped``); the queue end
that follows runs autoplay again with the new entry in force.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from backbeat.audio.context import Audio
from backbeat.audio.errors import CommandRefusedError
from backbeat.audio.guilds import GuildState
from backbeat.audio.handlers.queueing import _skip_effect
from backbeat.audio.ledger import Effect
from backbeat.audio.replies import notice
from backbeat.bus.interface import Delivery
from backbeat.domain.autoplay import artist_name
from backbeat.domain.messages.commands import AutoplayReject

#: How far back a rejected track that no longer plays is looked up.
HISTORY_LOOKUP = 50


async def autoplay_reject(
    audio: Audio, state: GuildState, delivery: Delivery | None, command: AutoplayReject
) -> None:
    guild_id = state.guild_id
    identifier = command.payload.identifier
    scope = command.payload.scope
    before = await audio.guild_settings(state)

    async def work(conn: AsyncConnection) -> Effect:
        current = await audio.queue.current(guild_id=guild_id, conn=conn)
        playing = current is not None and current.track.identifier == identifier
        if current is not None and playing:
            title, author = current.track.title, current.track.author
        else:
            recent = await audio.history.recent(guild_id=guild_id, limit=HISTORY_LOOKUP, conn=conn)
            found = next((r for r in recent if r.identifier == identifier), None)
            if found is None:
                raise CommandRefusedError(
                    "autoplay_reject_unknown", "that track did not play here recently"
                )
            title, author = found.title, found.author
        entry = (
            f"artist:{artist_name(title, author)}" if scope == "artist" else f"track:{identifier}"
        )
        blacklist = before.blacklist if entry in before.blacklist else (*before.blacklist, entry)
        settings = await audio.config.update(guild_id=guild_id, blacklist=blacklist, conn=conn)
        params: dict[str, str | int | float | bool] = {"scope": scope, "entry": entry}
        audit = {"entry": entry, "identifier": identifier, "skipped": playing}
        if playing:
            skipped = await _skip_effect(
                audio, state, conn, command, count=1, reply_key="autoplay.rejected", **params
            )
            skip_follow = skipped.follow

            async def follow() -> None:
                state.settings = settings  # the queue end the skip may reach sees the entry
                if skip_follow is not None:
                    await skip_follow()

            return Effect(
                reply=skipped.reply,
                audit=audit,
                events=[*skipped.events, ("settings.changed", {"keys": ["blacklist"]})],
                follow=follow,
            )

        async def remember() -> None:
            state.settings = settings

        return Effect(
            reply=notice(command, "autoplay.rejected", **params),
            audit=audit,
            events=[("settings.changed", {"keys": ["blacklist"]})],
            follow=remember,
            ui=None,
        )

    await audio.run(state, delivery, command, work)
