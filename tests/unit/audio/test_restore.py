"""The restorer tells its owner when a batch of restores is done, and how large it was."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import cast

from backbeat.audio.context import Audio
from backbeat.audio.guilds import Guilds
from backbeat.audio.restore import Restorer
from backbeat.domain.queue import QueueSession

LEAVE_AT = datetime(2030, 1, 1, tzinfo=UTC)


class _Queue:
    """The sessions of partition 0: idle guilds in voice (a timer to arm, nothing to play)."""

    def __init__(self, guilds: int) -> None:
        self._sessions = [
            QueueSession(guild_id=g, cursor=0, length=0, voice_channel_id=1, idle_leave_at=LEAVE_AT)
            for g in range(guilds)
        ]

    async def sessions(self, *, partition: int, partitions: int) -> list[QueueSession]:
        return self._sessions if partition == 0 else []


def _audio(guilds: int) -> Audio:
    return cast(Audio, SimpleNamespace(queue=_Queue(guilds), guilds=Guilds(), timers=None))


async def test_the_hook_gets_each_batch_size_once_its_last_restore_is_done() -> None:
    batches: list[int] = []
    done = asyncio.Event()

    def hook(guilds: int) -> None:
        batches.append(guilds)
        done.set()

    audio = _audio(70)
    restorer = Restorer(audio, 2, on_batch_done=hook)

    await restorer.gained(frozenset({0, 1}))
    async with asyncio.timeout(30):
        await done.wait()

    assert batches == [70]
    assert not restorer.pending
    assert all(not state.lock.locked() for state in audio.guilds)
    await restorer.close()
    assert batches == [70]  # once: the other drains found the queue empty


async def test_a_failing_hook_is_logged_and_the_restores_stand() -> None:
    calls: list[int] = []
    done = asyncio.Event()

    def hook(guilds: int) -> None:
        calls.append(guilds)
        done.set()
        raise RuntimeError("boom")

    audio = _audio(3)
    restorer = Restorer(audio, 1, on_batch_done=hook)
    await restorer.gained(frozenset({0}))
    async with asyncio.timeout(30):
        await done.wait()

    assert calls == [3]
    assert not restorer.pending
    assert all(not state.lock.locked() for state in audio.guilds)
    await restorer.close()


async def test_no_hook_and_nothing_to_restore() -> None:
    restorer = Restorer(_audio(0), 1)
    await restorer.gained(frozenset({0}))
    assert not restorer.pending
    await restorer.close()
