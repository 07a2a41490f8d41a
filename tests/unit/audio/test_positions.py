"""Positions from playerUpdates: kept in memory, written in batches, only when they say more."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any, cast

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from backbeat.audio.context import Audio
from backbeat.audio.guilds import Guilds
from backbeat.audio.ports import PlayerPosition
from backbeat.audio.positions import DRIFT_TOLERANCE_MS, REFRESH_MS, PositionRecorder, Reading
from backbeat.db.engine import create_engine
from backbeat.db.migrate import migrate_to
from backbeat.db.repositories import QueueRepository
from backbeat.domain.queue import NewQueueItem, QueueTrack

GUILD = 8_100_000
T0 = 1_800_000_000_000  # Lavalink's time (unix ms) of the first reading


@pytest.fixture
async def engine(fresh_database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(fresh_database_url)
    await migrate_to(engine, "head")
    yield engine
    await engine.dispose()


def _track(n: int) -> NewQueueItem:
    return NewQueueItem(
        track=QueueTrack(encoded=f"e{n}", identifier=f"i{n}", title=f"t{n}", length_ms=600_000),
        requester_id=1,
    )


async def _playing(engine: AsyncEngine, guilds: Guilds, guild: int) -> int:
    """A guild in voice with a current item (the state says it plays it); its item id."""
    queue = QueueRepository(engine)
    entry = await queue.append(guild_id=guild, item=_track(guild))
    await queue.set_session(guild_id=guild, voice_channel_id=5, position_ms=0, position_at=None)
    guilds.get(guild).playing = entry
    return entry.item_id


def _recorder(engine: AsyncEngine, guilds: Guilds, interval_s: float = 3600.0) -> PositionRecorder:
    audio: Any = SimpleNamespace(engine=engine, guilds=guilds)
    return PositionRecorder(cast(Audio, audio), interval_s=interval_s)


def _update(guild: int, position_ms: int, time_ms: int) -> PlayerPosition:
    return PlayerPosition(guild_id=guild, position_ms=position_ms, time_ms=time_ms, connected=True)


async def _stored(engine: AsyncEngine, guild: int) -> tuple[int, datetime | None]:
    session = await QueueRepository(engine).session(guild_id=guild)
    assert session is not None
    return session.position_ms, session.position_at


def _at(time_ms: int) -> datetime:
    return datetime.fromtimestamp(time_ms / 1000, UTC)


def test_a_reading_that_follows_at_normal_speed_or_stands_still_adds_nothing() -> None:
    written = Reading(1, 10_000, T0)
    assert Reading(1, 15_000, T0 + 5_000).follows(written)  # playing steadily
    assert Reading(1, 15_000 + DRIFT_TOLERANCE_MS, T0 + 5_000).follows(written)
    assert Reading(1, 10_000, T0 + 60_000).follows(written)  # paused where it was written
    assert not Reading(1, 16_500, T0 + 5_000).follows(written)  # faster (timescale)
    assert not Reading(1, 11_000, T0 + 5_000).follows(written)  # stalled after a while
    assert not Reading(2, 15_000, T0 + 5_000).follows(written)  # another item
    refresh = Reading(1, 10_000 + REFRESH_MS, T0 + REFRESH_MS)
    assert not refresh.follows(written)  # written again now and then


async def test_readings_wait_for_the_batch_and_many_guilds_go_in_one_transaction(
    engine: AsyncEngine,
) -> None:
    guilds = Guilds()
    players = [GUILD + n for n in range(12)]
    for guild in players:
        await _playing(engine, guilds, guild)
    recorder = _recorder(engine, guilds)
    for guild in players:
        recorder.seen(_update(guild, 1_000, T0))
        recorder.seen(_update(guild, 6_000, T0 + 5_000))  # the newest due one is kept
    assert recorder.due == len(players)
    assert await _stored(engine, players[0]) == (0, None)  # nothing written per update
    await recorder.flush()
    assert (recorder.batches, recorder.written_rows) == (1, len(players))
    for guild in players:
        assert await _stored(engine, guild) == (6_000, _at(T0 + 5_000))

    # steady playback afterwards: nothing is due, nothing is written
    for step in range(1, 10):
        for guild in players:
            recorder.seen(_update(guild, 6_000 + step * 5_000, T0 + 5_000 + step * 5_000))
    assert recorder.due == 0
    await recorder.flush()
    assert recorder.written_rows == len(players)
    await recorder.close()


async def test_the_flusher_writes_at_its_interval_not_per_update(engine: AsyncEngine) -> None:
    guilds = Guilds()
    await _playing(engine, guilds, GUILD)
    recorder = _recorder(engine, guilds, interval_s=0.05)
    recorder.seen(_update(GUILD, 2_000, T0))
    assert recorder.batches == 0  # seen() never writes
    for _ in range(400):  # bounded wait for the background batch
        if recorder.batches:
            break
        await asyncio.sleep(0.025)
    assert await _stored(engine, GUILD) == (2_000, _at(T0))
    recorder.seen(_update(GUILD, 60_000, T0 + 5_000))  # a seek on the node: due again
    for _ in range(400):
        if recorder.batches >= 2:
            break
        await asyncio.sleep(0.025)
    assert await _stored(engine, GUILD) == (60_000, _at(T0 + 5_000))
    await recorder.close()


async def test_a_stale_reading_or_one_of_an_old_item_is_skipped_in_sql(
    engine: AsyncEngine,
) -> None:
    guilds = Guilds()
    await _playing(engine, guilds, GUILD)
    queue = QueueRepository(engine)
    newer = _at(T0 + 10_000)
    await queue.set_session(guild_id=GUILD, position_ms=42_000, position_at=newer)  # a seek
    recorder = _recorder(engine, guilds)
    recorder.seen(_update(GUILD, 3_000, T0))
    await recorder.flush()
    assert await _stored(engine, GUILD) == (42_000, newer)

    other = GUILD + 1
    item = await _playing(engine, guilds, other)
    state = guilds.get(other)
    assert state.playing is not None
    assert state.playing.item_id == item
    await queue.advance(guild_id=other)  # the track changed: the old item's reading is stale
    recorder.seen(_update(other, 9_000, T0 + 20_000))
    await recorder.flush()
    assert await _stored(engine, other) == (0, None)
    await recorder.close()


async def test_a_guild_not_playing_or_dropped_records_nothing(engine: AsyncEngine) -> None:
    guilds = Guilds()
    await _playing(engine, guilds, GUILD)
    recorder = _recorder(engine, guilds)
    recorder.seen(_update(GUILD + 5, 1_000, T0))  # not a guild of ours
    guilds.get(GUILD + 6)  # ours, nothing playing
    recorder.seen(_update(GUILD + 6, 1_000, T0))
    recorder.seen(_update(GUILD, 1_000, T0))
    recorder.forget(GUILD)
    assert recorder.due == 0
    await recorder.close()
