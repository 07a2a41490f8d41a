"""Applied message ids: found after recording, a second record refused, purged in batches."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from backbeat.db.engine import create_engine
from backbeat.db.models import AppliedMessage as AppliedMessageRow
from backbeat.db.repositories import AppliedMessagesRepository
from backbeat.db.transactions import in_transaction
from backbeat.domain.messages.envelope import new_message_id
from backbeat.errors import MessageAlreadyAppliedError
from backbeat.observability.metrics import REGISTRY

GUILD = 777_777_777_777_777_777
REPLY = {"type": "notice", "payload": {"key": "volume.set", "params": {"percent": 80}}}


async def _count(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int(
            (await conn.execute(select(func.count()).select_from(AppliedMessageRow))).scalar_one()
        )


def _purge_transactions() -> float:
    value = REGISTRY.get_sample_value(
        "db_operation_duration_seconds_count", {"operation": "applied.purge"}
    )
    return value or 0.0


async def test_record_then_find_returns_the_reply(engine: AsyncEngine) -> None:
    repo = AppliedMessagesRepository(engine)
    message_id = new_message_id()
    assert await repo.find(None, message_id) is None

    recorded = await repo.record(
        None, message_id=message_id, guild_id=GUILD, command_type="volume", reply=REPLY
    )
    found = await repo.find(None, message_id)
    assert found == recorded
    assert found is not None
    assert found.reply == REPLY
    assert found.guild_id == GUILD
    assert found.command_type == "volume"
    assert found.applied_at.tzinfo is UTC

    no_reply = await repo.record(
        None, message_id=new_message_id(), guild_id=GUILD, command_type="skip", reply=None
    )
    assert (await repo.find(None, no_reply.message_id)) == no_reply


async def test_a_second_record_is_refused_and_changes_nothing(engine: AsyncEngine) -> None:
    repo = AppliedMessagesRepository(engine)
    message_id = new_message_id()
    await repo.record(None, message_id=message_id, guild_id=GUILD, command_type="play", reply=REPLY)
    with pytest.raises(MessageAlreadyAppliedError) as raised:
        await repo.record(
            None, message_id=message_id, guild_id=GUILD, command_type="play", reply={"other": 1}
        )
    assert raised.value.message_id == message_id
    found = await repo.find(None, message_id)
    assert found is not None
    assert found.reply == REPLY


async def test_record_in_a_rolled_back_transaction_leaves_no_trace(engine: AsyncEngine) -> None:
    repo = AppliedMessagesRepository(engine)
    message_id = new_message_id()

    async def work(conn: object) -> None:
        await repo.record(
            conn,  # type: ignore[arg-type]
            message_id=message_id,
            guild_id=GUILD,
            command_type="pause",
            reply=None,
        )
        assert await repo.find(conn, message_id) is not None  # type: ignore[arg-type]
        raise RuntimeError("the command failed after recording")

    with pytest.raises(RuntimeError):
        await in_transaction(engine, "test.rollback", work)
    assert await repo.find(None, message_id) is None


async def test_concurrent_records_of_one_id_let_exactly_one_commit(
    engine: AsyncEngine, migrated_url: str
) -> None:
    """Two deliveries of one message in two connection pools: one commits, the other is
    refused (on PostgreSQL and MariaDB after waiting for the first to commit)."""
    other = create_engine(migrated_url)
    message_id = new_message_id()
    try:
        repos = [AppliedMessagesRepository(engine), AppliedMessagesRepository(other)]
        results = await asyncio.gather(
            *(
                repo.record(
                    None,
                    message_id=message_id,
                    guild_id=GUILD,
                    command_type="play",
                    reply={"by": index},
                )
                for index, repo in enumerate(repos)
            ),
            return_exceptions=True,
        )
    finally:
        await other.dispose()
    refused = [result for result in results if isinstance(result, MessageAlreadyAppliedError)]
    assert len(refused) == 1, results
    assert await _count(engine) == 1


@pytest.mark.parametrize("bad", ["short", "g" * 32, "a" * 33])
async def test_record_validates_the_id(engine: AsyncEngine, bad: str) -> None:
    repo = AppliedMessagesRepository(engine)
    if len(bad) == 32:  # right length: stored as given (the envelope validates hex)
        await repo.record(None, message_id=bad, guild_id=GUILD, command_type="play", reply=None)
        return
    with pytest.raises(ValueError, match="message_id"):
        await repo.record(None, message_id=bad, guild_id=GUILD, command_type="play", reply=None)


async def test_record_validates_the_command_type(engine: AsyncEngine) -> None:
    repo = AppliedMessagesRepository(engine)
    for bad in ("", "x" * 65):
        with pytest.raises(ValueError, match="command_type"):
            await repo.record(
                None, message_id=new_message_id(), guild_id=GUILD, command_type=bad, reply=None
            )


async def test_purge_deletes_only_older_records_in_batches(engine: AsyncEngine) -> None:
    repo = AppliedMessagesRepository(engine)
    now = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    old_ids = []
    for minute in range(23):
        message_id = new_message_id()
        old_ids.append(message_id)
        await repo.record(
            None,
            message_id=message_id,
            guild_id=GUILD,
            command_type="skip",
            reply=None,
            applied_at=now - timedelta(days=2, minutes=minute),
        )
    kept = await repo.record(
        None,
        message_id=new_message_id(),
        guild_id=GUILD,
        command_type="skip",
        reply=None,
        applied_at=now - timedelta(hours=1),
    )

    before = _purge_transactions()
    assert await repo.purge(older_than=now - timedelta(days=1), batch_size=5) == 23
    assert _purge_transactions() - before == 5  # 5+5+5+5+3, each its own transaction
    assert await _count(engine) == 1
    assert await repo.find(None, kept.message_id) == kept
    assert all([await repo.find(None, message_id) is None for message_id in old_ids])
    assert await repo.purge(older_than=now - timedelta(days=1), batch_size=5) == 0
    with pytest.raises(ValueError, match="batch_size"):
        await repo.purge(older_than=now, batch_size=0)
