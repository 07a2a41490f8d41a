"""History, audit log, event store, lyrics cache and rate-limit policies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from db_builders import track
from sqlalchemy.ext.asyncio import AsyncEngine

from backbeat.db.repositories import (
    AuditRepository,
    EventStoreRepository,
    HistoryRepository,
    LyricsRepository,
    RateLimitRepository,
)
from backbeat.domain.records import AuditSource, RateLimitPolicy, SkipReason

GUILD = 555_555_555_555_555_555


async def test_history_start_end_and_recent(engine: AsyncEngine) -> None:
    repo = HistoryRepository(engine)
    base = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)
    first = await repo.start(guild_id=GUILD, track=track("a"), requester_id=9, started_at=base)
    second = await repo.start(
        guild_id=GUILD, track=track("b"), is_autoplay=True, started_at=base + timedelta(minutes=3)
    )
    assert first.ended_at is None
    assert first.started_at == base

    ended = await repo.end(
        record_id=first.record_id, skip_reason=SkipReason.SKIPPED, ended_at=base + timedelta(1)
    )
    assert ended is not None
    assert ended.skip_reason is SkipReason.SKIPPED
    assert ended.ended_at == base + timedelta(1)
    assert await repo.end(record_id=first.record_id, skip_reason=SkipReason.ERROR) is None
    assert await repo.end(record_id=999_999, skip_reason=SkipReason.ERROR) is None

    recent = await repo.recent(guild_id=GUILD)
    assert [record.title for record in recent] == ["Title b", "Title a"]
    assert recent[0].is_autoplay
    last = await repo.last(guild_id=GUILD)
    assert last == second
    older = await repo.recent(guild_id=GUILD, before_id=second.record_id)
    assert [record.record_id for record in older] == [first.record_id]
    assert await repo.last(guild_id=1) is None


async def test_audit_append_and_list(engine: AsyncEngine) -> None:
    repo = AuditRepository(engine)
    one = await repo.append(
        action="play",
        source=AuditSource.DISCORD,
        guild_id=GUILD,
        actor_id=77,
        channel_id=88,
        payload={"query": "lofi"},
    )
    two = await repo.append(action="settings.update", source=AuditSource.PANEL, guild_id=GUILD)
    await repo.append(action="startup", source=AuditSource.SYSTEM)

    entries = await repo.recent(guild_id=GUILD)
    assert entries == [two, one]
    assert one.payload == {"query": "lofi"}
    assert one.created_at.tzinfo is not None
    assert len(await repo.recent()) == 3
    assert await repo.recent(guild_id=GUILD, before_id=two.entry_id) == [one]
    with pytest.raises(ValueError, match="action"):
        await repo.append(action="", source=AuditSource.PANEL)


async def test_event_store_numbers_per_guild_and_reads_from(engine: AsyncEngine) -> None:
    repo = EventStoreRepository(engine)
    for n in range(5):
        await repo.append(guild_id=GUILD, type="track.started", payload={"n": n})
    other = await repo.append(guild_id=GUILD + 1, type="queue.changed")

    assert other.seq == 1
    assert await repo.last_seq(guild_id=GUILD) == 5
    assert await repo.last_seq(guild_id=7) == 0
    events = await repo.read_from(guild_id=GUILD, seq=3)
    assert [(event.seq, event.payload["n"]) for event in events] == [(3, 2), (4, 3), (5, 4)]
    assert [event.seq for event in await repo.read_from(guild_id=GUILD, seq=1, limit=2)] == [1, 2]
    with pytest.raises(ValueError, match="type"):
        await repo.append(guild_id=GUILD, type="x" * 65)


async def test_lyrics_cache_put_get_expire(engine: AsyncEngine) -> None:
    repo = LyricsRepository(engine)
    await repo.put(track_key="artist - song", lyrics="la la", source="genius")
    stored = await repo.put(
        track_key="artist - song", lyrics="la la la", source="lrclib", ttl=timedelta(hours=1)
    )
    got = await repo.get(track_key="artist - song")
    assert got == stored
    assert await repo.get(track_key="missing") is None
    assert stored.expires_at is not None
    later = stored.expires_at + timedelta(seconds=1)
    assert await repo.get(track_key="artist - song", now=later) is None
    assert await repo.purge_expired(now=later) == 1
    assert await repo.get(track_key="artist - song") is None


async def test_rate_limit_policies_default_and_override(engine: AsyncEngine) -> None:
    repo = RateLimitRepository(engine)
    default = RateLimitPolicy(bucket="command:play", limit=5, window_seconds=10)
    override = RateLimitPolicy(bucket="command:play", limit=20, window_seconds=10, guild_id=GUILD)
    await repo.put(policy=default)
    await repo.put(policy=default)
    await repo.put(policy=override)

    assert await repo.effective(bucket="command:play", guild_id=GUILD) == override
    assert await repo.effective(bucket="command:play", guild_id=1) == default
    assert await repo.effective(bucket="search", guild_id=GUILD) is None
    assert await repo.all() == [default]
    assert await repo.all(guild_id=GUILD) == [default, override]

    assert await repo.remove(bucket="command:play", guild_id=GUILD)
    assert not await repo.remove(bucket="command:play", guild_id=GUILD)
    assert await repo.effective(bucket="command:play", guild_id=GUILD) == default
    with pytest.raises(ValueError, match="window_seconds"):
        RateLimitPolicy(bucket="x", limit=1, window_seconds=0)
