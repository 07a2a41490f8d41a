"""Lavalink session ids per (audio worker, node), on every backend."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from backbeat.db.repositories.lavalink_sessions import SqlSessionStore


async def test_ids_are_kept_replaced_and_separate_per_worker_and_node(engine: AsyncEngine) -> None:
    store = SqlSessionStore(engine)
    assert await store.load("audio-1", "eu-1") is None
    await store.save("audio-1", "eu-1", "a" * 16)
    await store.save("audio-1", "us-1", "b" * 16)
    await store.save("audio-2", "eu-1", "c" * 16)
    await store.save("audio-1", "eu-1", "d" * 16)
    assert await store.load("audio-1", "eu-1") == "d" * 16
    assert await store.load("audio-1", "us-1") == "b" * 16
    assert await store.load("audio-2", "eu-1") == "c" * 16
    assert await store.load("audio-2", "us-1") is None


async def test_the_longest_values_fit_and_longer_ones_are_refused(engine: AsyncEngine) -> None:
    store = SqlSessionStore(engine)
    await store.save("w" * 64, "n" * 64, "s" * 64)
    assert await store.load("w" * 64, "n" * 64) == "s" * 64
    for worker, node, session in (("w" * 65, "n", "s"), ("w", "n" * 65, "s"), ("w", "n", "")):
        with pytest.raises(ValueError, match="characters"):
            await store.save(worker, node, session)
