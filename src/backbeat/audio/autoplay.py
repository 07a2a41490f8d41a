"""Autoplay: when a guild's queue ends with autoplay on, queue and play a fitting track.

While a track plays with nothing after it, :meth:`AutoplayEngine.prepare` gathers the
candidates in the background (the node's related tracks, more from the artist, a genre
search — every search through the worker's cached :class:`~backbeat.cache.searcher.Searcher`),
so when the track ends :meth:`AutoplayEngine.continue_queue` only filters (the guild's
blacklist, duration bounds, streams, the no-repeat window over PlaybackHistory, re-uploads
included) and starts the pick: no search sits between TrackEnd and the next track. The
selection itself is pure (:mod:`backbeat.domain.autoplay`). When every candidate is
filtered out, a wider search with looser bounds follows; when that finds nothing either,
the guild is told and the queue ends as usual.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING

from backbeat.audio.guilds import GuildState
from backbeat.db.transactions import in_transaction
from backbeat.domain.autoplay import (
    Candidate,
    Filters,
    RepeatWindow,
    Source,
    choose,
    clean_artist,
    genre_of,
    song_key,
    source_for,
    vote_genre,
)
from backbeat.domain.messages import Channel
from backbeat.domain.messages.ui import AutoplayReason, ErrorNoticePayload, UiError
from backbeat.domain.queue import NewQueueItem, QueueSession, QueueTrack
from backbeat.observability.logging import get_logger
from backbeat.observability.metrics import autoplay_triggers_total

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

    from backbeat.audio.context import Audio
    from backbeat.domain.queue import QueueEntry

_log = get_logger(__name__)

#: How many recent playbacks the no-repeat window covers (across sessions).
REPEAT_WINDOW = 50
#: How long the queue end waits for candidates still being prepared.
PREPARE_WAIT_S = 5.0
#: The English reason line of each source, before its subject (the reason's kind is the
#: source's value, so :meth:`AutoplayEngine.why_for` can give it in parts).
REASON_PREFIX = {
    Source.SIMILAR: "similar to ",
    Source.ARTIST: "more from ",
    Source.GENRE: "genre: ",
}


@dataclass(frozen=True, slots=True)
class Prepared:
    """Candidates gathered for what follows ``seed``."""

    seed: str
    task: asyncio.Task[list[Candidate] | None]


class AutoplayEngine:
    """Per-worker autoplay: prepared candidates by guild, the mixed-mode turn, reasons."""

    def __init__(self, audio: Audio) -> None:
        self.audio = audio
        self._prepared: dict[int, Prepared] = {}
        self._turns: dict[int, int] = {}
        #: Each guild's latest pick: its queue item id, how it was found and why.
        self.reasons: dict[int, tuple[int, Source, str]] = {}

    def reason_for(self, guild_id: int, entry: QueueEntry | None) -> str | None:
        """The reason line of ``entry`` when autoplay chose it (None otherwise)."""
        picked = self._picked(guild_id, entry)
        return None if picked is None else picked[2][:100]

    def why_for(self, guild_id: int, entry: QueueEntry | None) -> AutoplayReason | None:
        """The same reason as kind and subject (for the gateway to translate)."""
        picked = self._picked(guild_id, entry)
        if picked is None:
            return None
        _, source, reason = picked
        subject = reason.removeprefix(REASON_PREFIX[source]).strip()[:100]
        if not subject:
            return None
        return AutoplayReason.model_validate({"kind": source.value, "subject": subject})

    def _picked(self, guild_id: int, entry: QueueEntry | None) -> tuple[int, Source, str] | None:
        if entry is None or not entry.is_autoplay:
            return None
        picked = self.reasons.get(guild_id)
        return picked if picked is not None and picked[0] == entry.item_id else None

    # --- before the track ends ---------------------------------------------------------------

    def prepare(self, state: GuildState, entry: QueueEntry) -> None:
        """Start gathering candidates for what follows ``entry`` (no-op when already done,
        or when the guild's settings are known to have autoplay off)."""
        guild_id = state.guild_id
        known = self._prepared.get(guild_id)
        if known is not None and known.seed == entry.track.identifier:
            return
        if known is not None:
            known.task.cancel()
            del self._prepared[guild_id]
        if state.settings is not None and not state.settings.autoplay_enabled:
            return
        task = asyncio.create_task(self._prepare(state, entry.track))
        prepared = self._prepared[guild_id] = Prepared(entry.track.identifier, task)
        task.add_done_callback(lambda _task: self._settled(guild_id, prepared))

    def _settled(self, guild_id: int, prepared: Prepared) -> None:
        """A preparation ended: one that found autoplay off is not kept (a worker holds
        thousands of guilds, most without autoplay); a failed one is, to be logged when the
        queue ends."""
        task = prepared.task
        off = task.cancelled() or (task.exception() is None and task.result() is None)
        if off and self._prepared.get(guild_id) is prepared:
            del self._prepared[guild_id]

    async def _prepare(self, state: GuildState, seed: QueueTrack) -> list[Candidate] | None:
        """The candidates, or None when the guild has autoplay off (nothing searched)."""
        settings = await self.audio.guild_settings(state)
        if not settings.autoplay_enabled:
            return None
        return await self._gather(state.guild_id, seed, wide=False)

    async def close(self) -> None:
        tasks = [p.task for p in self._prepared.values()]
        self._prepared.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # --- at the queue end --------------------------------------------------------------------

    async def continue_queue(self, state: GuildState, session: QueueSession | None) -> bool:
        """Queue and play an autoplay pick; False when autoplay is off or found nothing."""
        audio = self.audio
        guild_id = state.guild_id
        settings = await audio.guild_settings(state)
        if not settings.autoplay_enabled or session is None:
            return False
        streak = state.failures.streak
        if streak.count >= streak.limit:
            return False  # playback stopped at the failure streak: do not play on by itself
        mode = settings.autoplay_mode
        history = await audio.history.recent(guild_id=guild_id, limit=REPEAT_WINDOW)
        if not history:
            return False
        last = history[0]
        seed = QueueTrack(
            encoded="",
            identifier=last.identifier,
            title=last.title,
            author=last.author,
            length_ms=last.length_ms,
            uri=last.uri,
            source_name=last.source_name,
        )
        window = RepeatWindow.of((h.identifier, h.title, h.author) for h in history)
        filters = Filters(blocked=settings.blacklist)
        turn = self._turns.get(guild_id, 0)
        source = source_for(mode, turn)
        candidates = await self._candidates(guild_id, seed)
        pick = choose(candidates, source=source, filters=filters, window=window)
        if pick is None:  # everything filtered out: a wider search, looser bounds
            wider = await self._gather(guild_id, seed, wide=True)
            pick = choose(wider, source=source, filters=filters.widened(), window=window)
        if pick is None:
            autoplay_triggers_total.labels(mode.value, "exhausted").inc()
            _log.info("autoplay_exhausted", guild_id=guild_id, seed=seed.identifier)
            await self._tell_exhausted(state, session)
            return False
        self._turns[guild_id] = turn + 1

        async def work(conn: AsyncConnection) -> tuple[QueueEntry, QueueSession | None]:
            entry = await audio.queue.append(
                guild_id=guild_id,
                item=NewQueueItem(track=pick.track, requester_id=None, is_autoplay=True),
                conn=conn,
            )
            return entry, await audio.queue.session(guild_id=guild_id, conn=conn)

        entry, after = await in_transaction(audio.engine, "audio.autoplay", work)
        current = await audio.queue.current(guild_id=guild_id)
        if current is None or current.item_id != entry.item_id or after is None:
            return False  # the queue moved meanwhile (should not happen under the lock)
        self.reasons[guild_id] = (entry.item_id, pick.source, pick.reason)
        autoplay_triggers_total.labels(mode.value, "queued").inc()
        _log.info(
            "autoplay_queued",
            guild_id=guild_id,
            identifier=pick.track.identifier,
            source=pick.source.value,
            mode=mode.value,
        )
        await audio.start_entry(state, current, after, by_user=False)
        return True

    async def _candidates(self, guild_id: int, seed: QueueTrack) -> list[Candidate]:
        prepared = self._prepared.pop(guild_id, None)
        if prepared is not None and prepared.seed == seed.identifier:
            try:
                found = await asyncio.wait_for(asyncio.shield(prepared.task), PREPARE_WAIT_S)
                if found is not None:
                    return found
            except (TimeoutError, asyncio.CancelledError):
                prepared.task.cancel()
            except Exception:
                _log.warning("autoplay_prepare_failed", guild_id=guild_id, exc_info=True)
        elif prepared is not None:
            prepared.task.cancel()
        return await self._gather(guild_id, seed, wide=False)

    async def _tell_exhausted(self, state: GuildState, session: QueueSession) -> None:
        await self.audio.bus.publish(
            Channel.UI_NOW,
            UiError(
                guild_id=state.guild_id,
                payload=ErrorNoticePayload(
                    state_seq=self.audio.seq.next(state.guild_id),
                    code="autoplay_exhausted",
                    message="Autoplay found nothing new to play, so the queue ends here.",
                    text_channel_id=session.text_channel_id,
                ),
            ),
        )

    # --- gathering candidates ----------------------------------------------------------------

    async def _gather(self, guild_id: int, seed: QueueTrack, *, wide: bool) -> list[Candidate]:
        """Candidates of every source for what follows ``seed`` (``wide``: broader queries)."""
        similar = await self._similar(guild_id, seed, wide=wide)
        artist = await self._artist(guild_id, seed, wide=wide)
        genre = await self._genre(guild_id, seed, similar, wide=wide)
        return [*similar, *artist, *genre]

    async def _search(self, guild_id: int, query: str) -> tuple[QueueTrack, ...]:
        """One search through the worker's cached searcher; nothing on any failure."""
        try:
            found = await self.audio.searcher.search(
                query, guild_id=guild_id, user_id=self.audio.bot_user_id
            )
        except Exception as error:  # a refused or failed search just gives no candidates
            _log.info("autoplay_search_failed", guild_id=guild_id, error=str(error)[:200])
            return ()
        return found.tracks

    async def _similar(self, guild_id: int, seed: QueueTrack, *, wide: bool) -> list[Candidate]:
        reason = f"{REASON_PREFIX[Source.SIMILAR]}{seed.title}"[:100]
        if seed.source_name == "youtube" and seed.identifier:
            mix = f"https://www.youtube.com/watch?v={seed.identifier}&list=RD{seed.identifier}"
            tracks = await self._search(guild_id, mix)
        elif seed.source_name == "spotify" and seed.identifier:
            try:
                result = await self.audio.players.load(f"sprec:seed_tracks={seed.identifier}")
                tracks = result.tracks
            except Exception:
                tracks = ()
        else:
            tracks = await self._search(guild_id, f"{seed.title} {seed.author}")
        if wide and not tracks:
            tracks = await self._search(guild_id, seed.title)
        return [
            Candidate(t, Source.SIMILAR, reason) for t in tracks if t.identifier != seed.identifier
        ]

    async def _artist(self, guild_id: int, seed: QueueTrack, *, wide: bool) -> list[Candidate]:
        artist = song_key(seed.title, seed.author)[0] or clean_artist(seed.author)
        if not artist:
            return []
        tracks = await self._search(guild_id, artist)
        name = _display_artist(seed)
        reason = f"{REASON_PREFIX[Source.ARTIST]}{name}"[:100]
        return [
            Candidate(t, Source.ARTIST, reason)
            for t in tracks
            if artist in (clean_artist(t.author), song_key(t.title, t.author)[0])
            or (wide and artist in song_key(t.title, t.author)[0])
        ]

    async def _genre(
        self, guild_id: int, seed: QueueTrack, similar: list[Candidate], *, wide: bool
    ) -> list[Candidate]:
        genre = genre_of(seed)
        if genre is None:
            recent = await self.audio.history.recent(guild_id=guild_id, limit=10)
            genre = vote_genre(
                [
                    QueueTrack(encoded="", identifier=h.identifier, title=h.title, author=h.author)
                    for h in recent
                ]
            ) or vote_genre([c.track for c in similar])
        if genre is None:
            return []
        query = genre.replace("-", " ")
        tracks = await self._search(guild_id, f"{query} mix" if wide else query)
        reason = f"{REASON_PREFIX[Source.GENRE]}{genre}"
        return [Candidate(t, Source.GENRE, reason) for t in tracks if genre_of(t) in (genre, None)]


def _display_artist(seed: QueueTrack) -> str:
    """The artist's name as labelled (``Artist - Topic`` without the suffix)."""
    title_artist = seed.title.split(" - ", 1)[0] if " - " in seed.title else ""
    name = title_artist or seed.author.removesuffix(" - Topic")
    return name.strip() or seed.author
