"""Autoplay's preparation keeps nothing for a guild with autoplay off: a preparation that
found it off is dropped when done, and none starts once the guild's settings say so."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import cast

from backbeat.audio.autoplay import AutoplayEngine
from backbeat.audio.context import Audio
from backbeat.audio.guilds import Guilds, GuildState
from backbeat.domain.guild_settings import GuildSettings
from backbeat.domain.queue import QueueEntry, QueueTrack

GUILD = 77
ENTRY = QueueEntry(
    item_id=1,
    position=0,
    track=QueueTrack(encoded="enc", identifier="abc", title="A title"),
    requester_id=None,
    is_autoplay=False,
    added_at=datetime(2026, 1, 1, tzinfo=UTC),
)


def _engine(reads: list[int]) -> AutoplayEngine:
    async def guild_settings(state: GuildState) -> GuildSettings:
        reads.append(state.guild_id)
        state.settings = GuildSettings(guild_id=state.guild_id, autoplay_enabled=False)
        return state.settings

    return AutoplayEngine(cast(Audio, SimpleNamespace(guild_settings=guild_settings)))


async def test_a_preparation_that_finds_autoplay_off_is_not_kept() -> None:
    reads: list[int] = []
    engine = _engine(reads)
    state = Guilds().get(GUILD)

    engine.prepare(state, ENTRY)
    assert len(engine._prepared) == 1
    await asyncio.gather(*(p.task for p in engine._prepared.values()))
    await asyncio.sleep(0)  # the done callback

    assert reads == [GUILD]
    assert not engine._prepared


async def test_no_preparation_starts_once_the_settings_say_autoplay_is_off() -> None:
    reads: list[int] = []
    engine = _engine(reads)
    state = Guilds().get(GUILD)
    state.settings = GuildSettings(guild_id=GUILD, autoplay_enabled=False)

    engine.prepare(state, ENTRY)

    assert not engine._prepared
    assert reads == []
    await engine.close()
