"""Two engines (two connection pools, as two processes would have) change one guild's queue
at the same time: positions stay contiguous (stored as first..first+n-1, reported as
0..n-1) and no item is lost or duplicated."""

from __future__ import annotations

import asyncio
import random

from db_builders import item, stored_queue
from sqlalchemy.ext.asyncio import AsyncEngine

from backbeat.db.engine import create_engine
from backbeat.db.repositories import EventStoreRepository, QueueRepository
from backbeat.domain.queue import LoopMode

GUILD = 333_333_333_333_333_333
OPERATIONS = 200
WORKERS_PER_ENGINE = 4


class Ledger:
    """What the workers added and removed, from the repository's own answers."""

    def __init__(self) -> None:
        self.added: set[int] = set()
        self.removed: set[int] = set()


async def _worker(repo: QueueRepository, rng: random.Random, ops: int, ledger: Ledger) -> None:
    for n in range(ops):
        choice = rng.randrange(12)
        if choice <= 2:
            entry = await repo.append(guild_id=GUILD, item=item(f"a{n}"))
            ledger.added.add(entry.item_id)
        elif choice == 3:
            entries = await repo.append_many(
                guild_id=GUILD, items=[item(f"m{n}-{k}") for k in range(3)]
            )
            ledger.added.update(entry.item_id for entry in entries)
        elif choice == 4:
            entries = await repo.insert_at(
                guild_id=GUILD, index=rng.randrange(5), items=[item(f"i{n}")]
            )
            ledger.added.update(entry.item_id for entry in entries)
        elif choice == 5:
            removed = await repo.remove(guild_id=GUILD, index=rng.randrange(4))
            if removed is not None:
                ledger.removed.add(removed.item_id)
        elif choice == 6:
            page = await repo.page(guild_id=GUILD, offset=0, limit=3)
            if page.items:
                gone = await repo.remove_item(guild_id=GUILD, item_id=page.items[-1].item_id)
                if gone is not None:
                    ledger.removed.add(gone.item_id)
        elif choice == 7:
            await repo.move(guild_id=GUILD, from_index=rng.randrange(6), to_index=rng.randrange(6))
        elif choice == 8:
            await repo.shuffle(guild_id=GUILD, rng=rng)
        elif choice == 9:
            await repo.advance(guild_id=GUILD, loop_mode=rng.choice(list(LoopMode)))
        elif choice == 10:
            await repo.previous(guild_id=GUILD)
        else:
            entries = await repo.insert_next(guild_id=GUILD, items=[item(f"n{n}")])
            ledger.added.update(entry.item_id for entry in entries)


async def test_two_engines_200_mixed_operations(migrated_url: str, engine: AsyncEngine) -> None:
    second = create_engine(migrated_url)
    ledger = Ledger()
    try:
        repos = [
            QueueRepository(engine, keep_played=None),
            QueueRepository(second, keep_played=None),
        ]
        seed = await repos[0].append_many(guild_id=GUILD, items=[item(f"s{k}") for k in range(5)])
        ledger.added.update(entry.item_id for entry in seed)
        per_worker = OPERATIONS // (len(repos) * WORKERS_PER_ENGINE)
        await asyncio.gather(
            *(
                _worker(repo, random.Random(index * 100 + worker), per_worker, ledger)
                for index, repo in enumerate(repos)
                for worker in range(WORKERS_PER_ENGINE)
            )
        )

        entries = await repos[1].items(guild_id=GUILD)
        session = await repos[1].session(guild_id=GUILD)
        stored = await stored_queue(second, GUILD)
    finally:
        await second.dispose()

    assert [entry.position for entry in entries] == list(range(len(entries)))
    ids = [entry.item_id for entry in entries]
    assert len(ids) == len(set(ids))
    assert set(ids) == ledger.added - ledger.removed
    assert ledger.removed <= ledger.added
    assert session is not None
    assert session.length == len(entries)
    assert 0 <= session.cursor <= session.length
    stored.assert_contiguous()  # stored positions are exactly first..first+n-1
    assert stored.ordered_ids() == ids


async def test_two_engines_append_events_without_gaps(
    migrated_url: str, engine: AsyncEngine
) -> None:
    second = create_engine(migrated_url)
    try:
        stores = [EventStoreRepository(engine), EventStoreRepository(second)]

        async def append(store: EventStoreRepository, n: int) -> int:
            event = await store.append(guild_id=GUILD, type="queue.changed", payload={"n": n})
            return event.seq

        seqs = await asyncio.gather(*(append(stores[n % 2], n) for n in range(40)))
        events = await stores[0].read_from(guild_id=GUILD, seq=1, limit=100)
    finally:
        await second.dispose()

    assert sorted(seqs) == list(range(1, 41))
    assert [event.seq for event in events] == list(range(1, 41))
    assert sorted(event.payload["n"] for event in events) == list(range(40))
