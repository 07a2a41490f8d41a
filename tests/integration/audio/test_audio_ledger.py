"""The exactly-once ledger on a real database: one transaction per command, repeats answered
from the stored reply, and a stale fencing token refused before anything is written."""

from __future__ import annotations

import pytest
from audio_rig import AppliedMessage, AuditLog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from backbeat.audio.ledger import Effect, Ledger, Replayed
from backbeat.audio.replies import error_reply, notice
from backbeat.bus.interface import Delivery
from backbeat.db.models import Queue
from backbeat.db.repositories.queue import QueueRepository
from backbeat.domain.messages import Channel, DiscordContext, InteractionRef
from backbeat.domain.messages.commands import Volume, VolumePayload
from backbeat.errors import StaleFencingTokenError

GUILD = 1_000_000_040  # partition 0 of 2
CONTEXT = DiscordContext(
    user_id=5, interaction=InteractionRef(id=1, token="t", application_id=2, created_at=0.0)
)


def _volume(percent: int) -> Volume:
    return Volume(guild_id=GUILD, context=CONTEXT, payload=VolumePayload(percent=percent))


def _delivery(command: Volume, fence: int | None, deliveries: int = 1) -> Delivery:
    return Delivery(command, Channel.COMMANDS, 0, "1-0", deliveries, fence=fence)


def _work(queue: QueueRepository, command: Volume):  # type: ignore[no-untyped-def]
    async def work(conn: AsyncConnection) -> Effect:
        await queue.set_session(guild_id=GUILD, volume=command.payload.percent, conn=conn)
        return Effect(reply=notice(command, "volume.set"), audit={"percent": 1})

    return work


async def _volume_stored(engine: AsyncEngine) -> int | None:
    async with engine.connect() as conn:
        return (await conn.execute(select(Queue.volume))).scalar_one_or_none()


async def _count(engine: AsyncEngine, model: object) -> int:
    async with engine.connect() as conn:
        return len((await conn.execute(select(model.__table__))).all())  # type: ignore[attr-defined]


async def test_a_repeat_is_answered_from_the_stored_reply(audio_engine: AsyncEngine) -> None:
    ledger, queue = Ledger(audio_engine), QueueRepository(audio_engine)
    command = _volume(70)
    first = await ledger.apply(_delivery(command, 3), command, _work(queue, command))
    assert isinstance(first, Effect)
    again = await ledger.apply(_delivery(command, 3, 2), command, _work(queue, _volume(10)))
    assert isinstance(again, Replayed)
    assert again.reply == first.reply
    assert await ledger.replay(command) == again
    assert await _volume_stored(audio_engine) == 70
    assert await _count(audio_engine, AuditLog) == 1
    assert await _count(audio_engine, AppliedMessage) == 1


async def test_a_stale_fencing_token_commits_nothing(audio_engine: AsyncEngine) -> None:
    ledger, queue = Ledger(audio_engine), QueueRepository(audio_engine)
    newer = _volume(50)
    await ledger.apply(_delivery(newer, 7), newer, _work(queue, newer))
    stale = _volume(150)
    with pytest.raises(StaleFencingTokenError):
        await ledger.apply(_delivery(stale, 6), stale, _work(queue, stale))
    assert await _volume_stored(audio_engine) == 50
    assert await ledger.replay(stale) is None
    assert await _count(audio_engine, AuditLog) == 1
    with pytest.raises(StaleFencingTokenError):
        await ledger.refuse(_delivery(stale, 6), stale, None)


async def test_a_refusal_is_recorded_with_its_reply(audio_engine: AsyncEngine) -> None:
    ledger, queue = Ledger(audio_engine), QueueRepository(audio_engine)
    command = _volume(80)
    refusal = error_reply(command, "nothing_playing", "nothing is playing")
    assert await ledger.refuse(_delivery(command, None), command, refusal) is None
    repeat = await ledger.apply(_delivery(command, None, 2), command, _work(queue, command))
    assert isinstance(repeat, Replayed)
    assert repeat.reply == refusal
    assert await _volume_stored(audio_engine) is None
    assert await _count(audio_engine, AuditLog) == 0
