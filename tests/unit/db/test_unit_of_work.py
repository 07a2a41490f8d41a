"""One command = one transaction: repository operations on a given connection commit or roll
back together, the fence check included."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from db_builders import item, track
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from backbeat.db.models import AuditLog, EventStoreEvent, PlaybackHistory, QueueItem
from backbeat.db.repositories import (
    AppliedMessagesRepository,
    AuditRepository,
    ConfigurationRepository,
    EventStoreRepository,
    FencingRepository,
    HistoryRepository,
    QueueRepository,
    advance_fence,
)
from backbeat.db.transactions import in_transaction
from backbeat.domain.guild_settings import GuildSettings
from backbeat.domain.messages.envelope import new_message_id
from backbeat.domain.queue import LoopMode
from backbeat.domain.records import AuditSource
from backbeat.errors import StaleFencingTokenError

GUILD = 424_242_424_242_424_242
POOL = "audio"
PARTITION = 2


class Repos:
    def __init__(self, engine: AsyncEngine) -> None:
        self.queue = QueueRepository(engine)
        self.history = HistoryRepository(engine)
        self.audit = AuditRepository(engine)
        self.events = EventStoreRepository(engine)
        self.applied = AppliedMessagesRepository(engine)


async def _play_command(
    repos: Repos, conn: AsyncConnection, *, message_id: str, token: int, name: str
) -> dict[str, Any]:
    """What a ``play`` handler writes: fence, queue, history, audit, event, applied id."""
    await advance_fence(conn, pool=POOL, partition=PARTITION, token=token)
    entry = await repos.queue.append(guild_id=GUILD, item=item(name), conn=conn)
    await repos.queue.set_session(guild_id=GUILD, voice_channel_id=5, volume=80, conn=conn)
    record = await repos.history.start(guild_id=GUILD, track=entry.track, conn=conn)
    await repos.audit.append(
        action="play", source=AuditSource.DISCORD, guild_id=GUILD, actor_id=9, conn=conn
    )
    await repos.events.append(guild_id=GUILD, type="queue.changed", payload={}, conn=conn)
    reply = {"type": "notice", "payload": {"key": "queued", "params": {"title": name}}}
    await repos.applied.record(
        conn, message_id=message_id, guild_id=GUILD, command_type="play", reply=reply
    )
    # Reads on the same connection see the unit's own uncommitted writes.
    page = await repos.queue.page(guild_id=GUILD, conn=conn)
    assert page.current is not None
    assert (await repos.history.last(guild_id=GUILD, conn=conn)) == record
    assert await repos.applied.find(conn, message_id) is not None
    return reply


async def _counts(engine: AsyncEngine) -> dict[str, int]:
    counts = {}
    async with engine.connect() as conn:
        for table in (QueueItem, PlaybackHistory, AuditLog, EventStoreEvent):
            statement = select(func.count()).select_from(table)
            counts[table.__tablename__] = int((await conn.execute(statement)).scalar_one())
    return counts


async def test_a_command_commits_every_write_together(engine: AsyncEngine) -> None:
    repos = Repos(engine)
    message_id = new_message_id()

    async def unit(conn: AsyncConnection) -> dict[str, Any]:
        return await _play_command(repos, conn, message_id=message_id, token=3, name="a")

    reply = await in_transaction(engine, "test.play", unit, retry_integrity=True)
    assert await _counts(engine) == {
        "queue_items": 1,
        "playback_history": 1,
        "audit_log": 1,
        "event_store_events": 1,
    }
    applied = await repos.applied.find(None, message_id)
    assert applied is not None
    assert applied.reply == reply
    session = await repos.queue.session(guild_id=GUILD)
    assert session is not None
    assert (session.voice_channel_id, session.volume) == (5, 80)
    assert await FencingRepository(engine).current(pool=POOL, partition=PARTITION) == 3


async def test_a_refused_fence_rolls_the_whole_command_back(engine: AsyncEngine) -> None:
    repos = Repos(engine)

    async def first(conn: AsyncConnection) -> dict[str, Any]:
        return await _play_command(repos, conn, message_id=new_message_id(), token=7, name="a")

    await in_transaction(engine, "test.play", first, retry_integrity=True)
    before = await _counts(engine)
    stale_id = new_message_id()

    async def stale(conn: AsyncConnection) -> dict[str, Any]:
        return await _play_command(repos, conn, message_id=stale_id, token=6, name="b")

    with pytest.raises(StaleFencingTokenError):
        await in_transaction(engine, "test.play", stale, retry_integrity=True)
    assert await _counts(engine) == before
    assert await repos.applied.find(None, stale_id) is None
    assert [entry.track.title for entry in await repos.queue.items(guild_id=GUILD)] == ["Title a"]


async def test_a_failure_after_the_fence_rolls_back_the_fence_too(engine: AsyncEngine) -> None:
    """The fence advance belongs to the unit: a unit that fails leaves the old token."""
    repos = Repos(engine)
    await FencingRepository(engine).advance(pool=POOL, partition=PARTITION, token=1)

    async def failing(conn: AsyncConnection) -> None:
        await _play_command(repos, conn, message_id=new_message_id(), token=2, name="a")
        raise RuntimeError("lavalink refused")

    with pytest.raises(RuntimeError, match="lavalink"):
        await in_transaction(engine, "test.play", failing)
    assert await _counts(engine) == dict.fromkeys(
        ("queue_items", "playback_history", "audit_log", "event_store_events"), 0
    )
    assert await FencingRepository(engine).current(pool=POOL, partition=PARTITION) == 1


async def test_every_queue_operation_runs_on_a_given_connection(engine: AsyncEngine) -> None:
    queue = QueueRepository(engine)
    read_at = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)

    async def unit(conn: AsyncConnection) -> None:
        await queue.append_many(guild_id=GUILD, items=[item(n) for n in "abcde"], conn=conn)
        await queue.insert_next(guild_id=GUILD, items=[item("n")], conn=conn)
        await queue.insert_at(guild_id=GUILD, index=1, items=[item("i")], conn=conn)
        assert (await queue.remove(guild_id=GUILD, index=0, conn=conn)) is not None
        current = await queue.current(guild_id=GUILD, conn=conn)
        assert current is not None
        await queue.move(guild_id=GUILD, from_index=0, to_index=2, conn=conn)
        await queue.shuffle(guild_id=GUILD, conn=conn)
        await queue.advance(guild_id=GUILD, conn=conn)
        await queue.previous(guild_id=GUILD, conn=conn)
        await queue.skip_to(guild_id=GUILD, index=1, conn=conn)
        entries = await queue.items(guild_id=GUILD, conn=conn)
        await queue.remove_item(guild_id=GUILD, item_id=entries[-1].item_id, conn=conn)
        await queue.set_session(
            guild_id=GUILD,
            loop_mode=LoopMode.QUEUE,
            position_ms=42_000,
            position_at=read_at,
            conn=conn,
        )
        assert len(await queue.sessions(conn=conn)) == 1
        assert await queue.count(conn=conn) == 2  # 6 items, cursor at index 2, one removed
        await queue.clear(guild_id=GUILD, conn=conn)
        assert await queue.count(conn=conn) == 0
        raise RuntimeError("roll it all back")

    with pytest.raises(RuntimeError, match="roll it all back"):
        await in_transaction(engine, "test.queue", unit)
    assert await queue.session(guild_id=GUILD) is None
    assert await queue.items(guild_id=GUILD) == []

    async def kept(conn: AsyncConnection) -> None:
        await queue.append(guild_id=GUILD, item=item("k"), conn=conn)
        await queue.set_session(guild_id=GUILD, position_ms=42_000, position_at=read_at, conn=conn)

    await in_transaction(engine, "test.queue", kept)
    session = await queue.session(guild_id=GUILD)
    assert session is not None
    assert (session.position_ms, session.position_at) == (42_000, read_at)

    async def deleted(conn: AsyncConnection) -> None:
        assert await queue.delete_session(guild_id=GUILD, conn=conn)

    await in_transaction(engine, "test.queue", deleted)
    assert await queue.session(guild_id=GUILD) is None


async def test_position_at_defaults_to_now_and_resets_on_a_track_change(
    engine: AsyncEngine,
) -> None:
    queue = QueueRepository(engine)
    await queue.append_many(guild_id=GUILD, items=[item("a"), item("b")])
    before = datetime.now(UTC)
    session = await queue.set_session(guild_id=GUILD, position_ms=1_000)
    assert session.position_at is not None
    assert before - timedelta(seconds=1) <= session.position_at
    paused = await queue.set_session(guild_id=GUILD, paused=True)
    assert paused.position_at == session.position_at  # untouched when position_ms is not given
    cleared = await queue.set_session(guild_id=GUILD, position_ms=5, position_at=None)
    assert cleared.position_at is None
    await queue.set_session(guild_id=GUILD, position_ms=2_000)
    await queue.advance(guild_id=GUILD)
    after = await queue.session(guild_id=GUILD)
    assert after is not None
    assert (after.position_ms, after.position_at) == (0, None)


async def test_configuration_on_a_connection_leaves_hooks_to_the_caller(
    engine: AsyncEngine,
) -> None:
    config = ConfigurationRepository(engine)
    seen: list[GuildSettings] = []

    async def hook(settings: GuildSettings) -> None:
        seen.append(settings)

    config.on_change(hook)

    async def unit(conn: AsyncConnection) -> GuildSettings:
        updated = await config.update(guild_id=GUILD, twenty_four_seven=True, conn=conn)
        assert (await config.get(guild_id=GUILD, conn=conn)).twenty_four_seven
        return updated

    settings = await in_transaction(engine, "test.config", unit)
    assert seen == []
    await config.notify(settings)
    assert seen == [settings]
    assert (await config.get(guild_id=GUILD)).twenty_four_seven

    async def reset(conn: AsyncConnection) -> GuildSettings:
        return await config.reset(guild_id=GUILD, conn=conn)

    await in_transaction(engine, "test.config", reset)
    assert len(seen) == 1
    assert not (await config.get(guild_id=GUILD)).twenty_four_seven


async def test_a_connection_without_a_transaction_is_refused(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        with pytest.raises(RuntimeError, match="no open transaction"):
            await QueueRepository(engine).append(guild_id=GUILD, item=item("a"), conn=conn)
        with pytest.raises(RuntimeError, match="no open transaction"):
            await HistoryRepository(engine).start(guild_id=GUILD, track=track("a"), conn=conn)
