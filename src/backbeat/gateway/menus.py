"""The components of replies: the queue's page buttons and the search results' select menu.

Custom ids carry everything a click needs, so they work in any process and after restarts:
``bbq:<guild_id>:<page>`` (show that page of the queue) and ``bbs:<guild_id>`` (a select
whose option values are what to enqueue: the track's link, or its title and artist).
"""

from __future__ import annotations

from dataclasses import dataclass

import discord

from backbeat.domain.i18n import Translator
from backbeat.domain.messages import TrackSummary
from backbeat.domain.messages.commands import MAX_QUERY_LENGTH
from backbeat.domain.messages.to_discord import QueuePagePayload, SearchResultsPayload

QUEUE_PREFIX = "bbq"
PICK_PREFIX = "bbs"
_OPTION_VALUE_MAX = 100
_OPTION_LABEL_MAX = 100


@dataclass(frozen=True, slots=True)
class QueuePageId:
    guild_id: int
    page: int

    def __str__(self) -> str:
        return f"{QUEUE_PREFIX}:{self.guild_id}:{self.page}"


@dataclass(frozen=True, slots=True)
class PickId:
    guild_id: int

    def __str__(self) -> str:
        return f"{PICK_PREFIX}:{self.guild_id}"


def parse_menu(custom_id: str) -> QueuePageId | PickId | None:
    """The reply component a custom id names; None for anything else."""
    parts = custom_id.split(":")
    if not all(part.isdigit() for part in parts[1:]) or len(parts) < 2:
        return None
    if parts[0] == QUEUE_PREFIX and len(parts) == 3 and 1 <= int(parts[2]) <= 10_000:
        return QueuePageId(int(parts[1]), int(parts[2]))
    if parts[0] == PICK_PREFIX and len(parts) == 2:
        return PickId(int(parts[1]))
    return None


def pick_value(track: TrackSummary) -> str:
    """What a pick enqueues: the link when it fits an option value, else a search."""
    if track.uri and len(track.uri) <= _OPTION_VALUE_MAX:
        return track.uri
    words = f"{track.title} {track.author}".strip() or track.identifier
    return words[: min(_OPTION_VALUE_MAX, MAX_QUERY_LENGTH)]


def queue_pager(
    guild_id: int, page: QueuePagePayload, tr: Translator, locale: str
) -> discord.ui.View | None:
    """Previous / next buttons for a queue page; None when there is one page."""
    if page.pages <= 1:
        return None
    view = discord.ui.View(timeout=None)
    view.add_item(
        discord.ui.Button(
            emoji="◀️",
            label=tr(locale, "queue.previous"),
            custom_id=str(QueuePageId(guild_id, max(1, page.page - 1))),
            disabled=page.page <= 1,
        )
    )
    view.add_item(
        discord.ui.Button(
            emoji="▶️",
            label=tr(locale, "queue.next"),
            custom_id=str(QueuePageId(guild_id, min(page.pages, page.page + 1))),
            disabled=page.page >= page.pages,
        )
    )
    view.stop()  # rendered only: clicks are dispatched by custom id
    return view


def search_menu(
    guild_id: int, results: SearchResultsPayload, tr: Translator, locale: str
) -> discord.ui.View | None:
    """A select of the results (at most 25, Discord's limit); None when nothing was found."""
    options: list[discord.SelectOption] = []
    seen: set[str] = set()
    for number, track in enumerate(results.tracks, start=1):
        value = pick_value(track)
        if value in seen:
            continue
        seen.add(value)
        label = f"{number}. {track.title}"[:_OPTION_LABEL_MAX] or str(number)
        options.append(
            discord.SelectOption(
                label=label, value=value, description=(track.author or None) and track.author[:100]
            )
        )
    if not options:
        return None
    view = discord.ui.View(timeout=None)
    view.add_item(
        discord.ui.Select(
            custom_id=str(PickId(guild_id)),
            placeholder=tr(locale, "search.placeholder"),
            options=options[:25],
            min_values=1,
            max_values=1,
        )
    )
    view.stop()
    return view
