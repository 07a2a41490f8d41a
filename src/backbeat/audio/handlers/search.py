"""``search`` and ``suggest``: read-only searches (no applied or audit row).

``search`` answers one ``search-results`` reply with up to ``limit`` tracks (none found: an
empty list, which the gateway shows as "nothing found"). ``suggest`` answers autocomplete
with ``suggestions`` from the cache, else from a live search within
``BACKBEAT_SUGGEST_BUDGET_S`` counted from when the gateway created the command; refused,
throttled, failed or too slow, it sends nothing at all: Discord gives autocomplete 3 s and
a late answer is worth less than none (the gateway then answers from its own memory).
"""

from __future__ import annotations

import time

from backbeat.audio.context import Audio
from backbeat.audio.guilds import GuildState
from backbeat.audio.handlers.play import search as searched
from backbeat.audio.replies import summary, target
from backbeat.bus.interface import Delivery
from backbeat.domain import limits
from backbeat.domain.messages.commands import Search, Suggest
from backbeat.domain.messages.to_discord import (
    Choice,
    SearchResults,
    SearchResultsPayload,
    Suggestions,
    SuggestionsPayload,
)
from backbeat.domain.queue import QueueTrack
from backbeat.observability.logging import get_logger

_log = get_logger(__name__)

#: Autocomplete shows at most 25 choices, each name and value at most 100 characters.
MAX_CHOICES = 25
CHOICE_MAX = 100


async def search(
    audio: Audio, state: GuildState, delivery: Delivery | None, command: Search
) -> None:
    """Read-only: one ``search-results`` reply."""
    payload = command.payload
    found = await searched(audio, state, command, payload.query, payload.source)
    await audio.to_discord(
        SearchResults(
            **command.reply_fields(),
            payload=SearchResultsPayload(
                target=target(command),
                query=payload.query[: limits.QUERY],
                tracks=[summary(track) for track in found.tracks[: payload.limit]],
            ),
        )
    )


def choice(track: QueueTrack) -> Choice:
    """One autocomplete choice: ``title — author``; its value the track's link when it fits
    (``/play`` then loads exactly that track), else the words to search for."""
    words = f"{track.title} {track.author}".strip() or track.identifier or "?"
    name = f"{track.title} — {track.author}" if track.author else track.title
    fits = track.uri is not None and len(track.uri) <= CHOICE_MAX
    value = track.uri if fits and track.uri else words[:CHOICE_MAX]
    return Choice(name=(name or words)[:CHOICE_MAX], value=value)


async def suggest(
    audio: Audio, state: GuildState, delivery: Delivery | None, command: Suggest
) -> None:
    """Read-only: ``suggestions`` within the budget, or nothing."""
    interaction = command.context.interaction
    if interaction is None:
        return  # nobody to answer
    partial = command.payload.partial.strip()
    budget = audio.settings.suggest_budget_s
    left = budget - min(budget, max(0.0, time.time() - command.ts))
    choices: list[Choice] = []
    if partial:
        if left <= 0:
            _log.info("suggest_late", guild_id=state.guild_id, message_id=command.id)
            return
        tracks = await audio.searcher.suggest(
            partial, guild_id=state.guild_id, user_id=command.context.user_id, budget_s=left
        )
        if tracks is None:
            return
        seen: set[str] = set()
        for track in tracks:
            option = choice(track)
            if option.value not in seen:
                seen.add(option.value)
                choices.append(option)
            if len(choices) == MAX_CHOICES:
                break
    await audio.to_discord(
        Suggestions(
            **command.reply_fields(),
            payload=SuggestionsPayload(
                interaction_id=interaction.id,
                interaction_token=interaction.token,
                choices=choices,
            ),
        )
    )
