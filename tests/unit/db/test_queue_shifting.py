"""Inserts and removals renumber only the shorter side of the point, on every backend.

The stored positions are read with plain SQL: the side that must not move keeps its stored
positions, the queue's ``first_position`` moves when the front side shifts, and what the
repository reports (order, indexes, the current item) is the same either way.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import pytest
from db_builders import StoredQueue, item, stored_queue
from sqlalchemy.ext.asyncio import AsyncEngine

from backbeat.db.repositories import QueueRepository
from backbeat.domain.queue import ClearScope, LoopMode, QueueEntry

GUILD = 444_444_444_444_444_444


def titles(entries: list[QueueEntry] | tuple[QueueEntry, ...]) -> list[str]:
    return [entry.track.title.removeprefix("Title ") for entry in entries]


def unmoved(before: StoredQueue, after: StoredQueue, ids: list[int]) -> bool:
    return all(before.positions[item_id] == after.positions[item_id] for item_id in ids)


async def fill(repo: QueueRepository, count: int, played: int) -> list[QueueEntry]:
    """``count`` items named 0..count-1, of which the first ``played`` were played."""
    entries = await repo.append_many(guild_id=GUILD, items=[item(str(n)) for n in range(count)])
    if played:
        await repo.skip_to(guild_id=GUILD, index=played - 1)
    return entries


async def current_title(repo: QueueRepository) -> str | None:
    current = await repo.current(guild_id=GUILD)
    return None if current is None else current.track.title.removeprefix("Title ")


@pytest.fixture
def repo(engine: AsyncEngine) -> QueueRepository:
    return QueueRepository(engine, keep_played=None)


async def test_insert_next_shifts_the_current_and_played_items_down(
    repo: QueueRepository, engine: AsyncEngine
) -> None:
    entries = await fill(repo, 20, played=3)  # played 0 1 2, current 3
    before = await stored_queue(engine, GUILD)

    added = await repo.insert_next(guild_id=GUILD, items=[item("n1"), item("n2")])

    after = await stored_queue(engine, GUILD)
    after.assert_contiguous()
    assert after.first == before.first - 2
    assert unmoved(before, after, [entry.item_id for entry in entries[4:]])
    assert [(entry.position, entry.is_current) for entry in added] == [(4, False), (5, False)]
    assert titles(added) == ["n1", "n2"]
    listed = await repo.items(guild_id=GUILD)
    assert titles(listed[:7]) == ["0", "1", "2", "3", "n1", "n2", "4"]
    assert [entry.position for entry in listed] == list(range(22))
    assert await current_title(repo) == "3"
    page = await repo.page(guild_id=GUILD, offset=0, limit=3)
    assert titles(page.items) == ["n1", "n2", "4"]
    assert page.total == 18


async def test_insert_far_from_the_front_shifts_the_later_items_up(
    repo: QueueRepository, engine: AsyncEngine
) -> None:
    entries = await fill(repo, 20, played=3)
    before = await stored_queue(engine, GUILD)

    added = await repo.insert_at(guild_id=GUILD, index=12, items=[item("late")])

    after = await stored_queue(engine, GUILD)
    after.assert_contiguous()
    assert after.first == before.first
    assert unmoved(before, after, [entry.item_id for entry in entries[:16]])
    assert added[0].position == 16
    assert titles((await repo.page(guild_id=GUILD, offset=11, limit=3)).items) == [
        "15",
        "late",
        "16",
    ]
    assert await current_title(repo) == "3"


async def test_remove_near_the_front_shifts_the_current_and_played_items_up(
    repo: QueueRepository, engine: AsyncEngine
) -> None:
    entries = await fill(repo, 20, played=3)
    before = await stored_queue(engine, GUILD)

    removed = await repo.remove(guild_id=GUILD, index=0)

    after = await stored_queue(engine, GUILD)
    after.assert_contiguous()
    assert removed is not None
    assert (removed.track.title, removed.position) == ("Title 4", 4)
    assert after.first == before.first + 1
    assert unmoved(before, after, [entry.item_id for entry in entries[5:]])
    assert await current_title(repo) == "3"
    assert titles((await repo.page(guild_id=GUILD, offset=0, limit=2)).items) == ["5", "6"]
    assert (after.cursor, after.length) == (3, 19)


async def test_remove_near_the_end_shifts_the_later_items_down(
    repo: QueueRepository, engine: AsyncEngine
) -> None:
    entries = await fill(repo, 20, played=3)
    before = await stored_queue(engine, GUILD)

    removed = await repo.remove(guild_id=GUILD, index=14)  # item 18

    after = await stored_queue(engine, GUILD)
    after.assert_contiguous()
    assert removed is not None
    assert removed.track.title == "Title 18"
    assert after.first == before.first
    assert unmoved(before, after, [entry.item_id for entry in entries[:18]])
    assert titles(await repo.items(guild_id=GUILD))[-2:] == ["17", "19"]


async def test_removing_played_and_current_items_on_either_side(
    repo: QueueRepository, engine: AsyncEngine
) -> None:
    entries = await fill(repo, 12, played=3)  # played 0 1 2, current 3
    start = (await stored_queue(engine, GUILD)).first

    async def remove(n: int) -> tuple[QueueEntry, StoredQueue]:
        removed = await repo.remove_item(guild_id=GUILD, item_id=entries[n].item_id)
        assert removed is not None
        state = await stored_queue(engine, GUILD)
        state.assert_contiguous()
        return removed, state

    played, state = await remove(1)  # near the front: the front side moves up
    assert (played.position, state.first, state.cursor) == (1, start + 1, 2)
    assert await current_title(repo) == "3"
    current, state = await remove(3)  # the current one, near the front
    assert (current.position, current.is_current) == (2, True)
    assert (state.first, state.cursor) == (start + 2, 2)
    assert await current_title(repo) == "4"

    await repo.skip_to(guild_id=GUILD, index=4)  # current: 9
    played, state = await remove(8)  # played, nearer the end: the later side moves down
    assert (played.position, state.first, state.cursor) == (6, start + 2, 6)
    assert await current_title(repo) == "9"
    current, state = await remove(9)  # the current one, nearer the end
    assert current.is_current
    assert (state.first, state.cursor, state.length) == (start + 2, 6, 8)
    assert await current_title(repo) == "10"
    assert titles(await repo.items(guild_id=GUILD)) == ["0", "2", "4", "5", "6", "7", "10", "11"]


async def test_queue_loop_wraps_across_a_shifted_front(
    repo: QueueRepository, engine: AsyncEngine
) -> None:
    await repo.append_many(guild_id=GUILD, items=[item(n) for n in "abcdef"])
    await repo.set_session(guild_id=GUILD, loop_mode=LoopMode.QUEUE)
    for _ in range(5):
        await repo.advance(guild_id=GUILD)  # current: f, the last item

    await repo.insert_next(guild_id=GUILD, items=[item("x")])  # after f, at the end
    nxt = await repo.advance(guild_id=GUILD)
    assert nxt is not None
    assert nxt.track.title == "Title x"
    wrapped = await repo.advance(guild_id=GUILD)
    assert wrapped is not None
    assert (wrapped.track.title, wrapped.position) == ("Title a", 0)

    before = await stored_queue(engine, GUILD)
    await repo.insert_next(guild_id=GUILD, items=[item("y")])  # after a: shift a down
    after = await stored_queue(engine, GUILD)
    after.assert_contiguous()
    assert after.first == before.first - 1
    assert titles(await repo.items(guild_id=GUILD)) == ["a", "y", "b", "c", "d", "e", "f", "x"]

    back = await repo.previous(guild_id=GUILD)  # wraps from the first to the last
    assert back is not None
    assert back.track.title == "Title x"
    onward = [await repo.advance(guild_id=GUILD) for _ in range(3)]
    assert [entry.track.title[6:] for entry in onward if entry] == ["a", "y", "b"]
    (await stored_queue(engine, GUILD)).assert_contiguous()


async def test_trimming_played_items_moves_the_start_without_renumbering(
    engine: AsyncEngine,
) -> None:
    repo = QueueRepository(engine, keep_played=2)
    entries = await repo.append_many(guild_id=GUILD, items=[item(str(n)) for n in range(12)])
    before = await stored_queue(engine, GUILD)

    for _ in range(6):
        await repo.advance(guild_id=GUILD)  # current: 6; 0..3 trimmed

    trimmed = await stored_queue(engine, GUILD)
    trimmed.assert_contiguous()
    assert trimmed.first == before.first + 4
    assert unmoved(before, trimmed, [entry.item_id for entry in entries[4:]])
    assert (trimmed.cursor, trimmed.length) == (2, 8)

    added = await repo.insert_next(guild_id=GUILD, items=[item("n")])
    assert added[0].position == 3
    shifted = await stored_queue(engine, GUILD)
    shifted.assert_contiguous()
    assert shifted.first == trimmed.first - 1
    assert unmoved(trimmed, shifted, [entry.item_id for entry in entries[7:]])
    removed = await repo.remove(guild_id=GUILD, index=0)
    assert removed is not None
    assert removed.track.title == "Title n"
    assert (await stored_queue(engine, GUILD)).first == trimmed.first

    current = await repo.skip_to(guild_id=GUILD, index=2)  # current: 9; 5..6 trimmed
    assert current is not None
    assert (current.track.title, current.position) == ("Title 9", 2)
    assert titles(await repo.items(guild_id=GUILD)) == ["7", "8", "9", "10", "11"]
    (await stored_queue(engine, GUILD)).assert_contiguous()


async def test_an_emptied_queue_starts_over_at_zero(
    repo: QueueRepository, engine: AsyncEngine
) -> None:
    await repo.append_many(guild_id=GUILD, items=[item(n) for n in "abcd"])
    await repo.insert_next(guild_id=GUILD, items=[item("n")])
    assert (await stored_queue(engine, GUILD)).first == -1

    await repo.clear(guild_id=GUILD, scope=ClearScope.ALL)
    assert (await stored_queue(engine, GUILD)).first == 0
    first = await repo.append(guild_id=GUILD, item=item("z"))
    assert (first.position, first.is_current) == (0, True)
    assert list((await stored_queue(engine, GUILD)).positions.values()) == [0]


@dataclass
class Model:
    """The queue as a plain list: what the repository must report after every operation."""

    keep_played: int | None
    names: list[str] = field(default_factory=list)
    cursor: int = 0
    loop_mode: LoopMode = LoopMode.OFF

    @property
    def start(self) -> int:
        return min(self.cursor + 1, len(self.names))

    @property
    def upcoming(self) -> int:
        return len(self.names) - self.start

    def trim(self) -> None:
        if self.keep_played is not None and self.cursor > self.keep_played:
            drop = self.cursor - self.keep_played
            del self.names[:drop]
            self.cursor -= drop

    def advance(self, mode: LoopMode) -> None:
        if not self.names or (mode is LoopMode.TRACK and self.cursor < len(self.names)):
            return
        if mode is LoopMode.QUEUE:
            self.cursor = (self.cursor + 1) % len(self.names)
        else:
            self.cursor = min(self.cursor + 1, len(self.names))
            self.trim()

    def remove_at(self, position: int) -> None:
        del self.names[position]
        if position < self.cursor:
            self.cursor -= 1


async def step(repo: QueueRepository, model: Model, rng: random.Random, n: int) -> None:
    """One random operation on the repository and the same on the model."""
    choice = rng.randrange(10)
    if choice <= 2:
        count, index = rng.choice((1, 1, 3)), rng.randrange(-1, model.upcoming + 2)
        names = [f"{n}.{k}" for k in range(count)]
        await repo.insert_at(guild_id=GUILD, index=index, items=[item(name) for name in names])
        at = model.start + min(max(index, 0), model.upcoming)
        model.names[at:at] = names
    elif choice == 3:
        index = rng.randrange(-1, model.upcoming + 1)
        await repo.remove(guild_id=GUILD, index=index)
        if 0 <= index < model.upcoming:
            model.remove_at(model.start + index)
    elif choice == 4 and model.names:
        position = rng.randrange(len(model.names))
        chosen = next(
            entry
            for entry in await repo.items(guild_id=GUILD)
            if entry.track.title == f"Title {model.names[position]}"
        )
        await repo.remove_item(guild_id=GUILD, item_id=chosen.item_id)
        model.remove_at(position)
    elif choice == 5:
        source, target = rng.randrange(model.upcoming + 1), rng.randrange(model.upcoming + 1)
        await repo.move(guild_id=GUILD, from_index=source, to_index=target)
        if source < model.upcoming and target < model.upcoming:
            model.names.insert(model.start + target, model.names.pop(model.start + source))
    elif choice == 6:
        mode = rng.choice(list(LoopMode))
        await repo.advance(guild_id=GUILD, loop_mode=mode)
        model.advance(mode)
    elif choice == 7:
        await repo.previous(guild_id=GUILD)
        if model.cursor > 0 and model.names:
            model.cursor -= 1
        elif model.names and model.loop_mode is LoopMode.QUEUE:
            model.cursor = len(model.names) - 1
    elif choice == 8:
        index = rng.randrange(model.upcoming + 1)
        await repo.skip_to(guild_id=GUILD, index=index)
        if index < model.upcoming:
            model.cursor = model.start + index
            if model.loop_mode is not LoopMode.QUEUE:
                model.trim()
    else:
        model.loop_mode = rng.choice(list(LoopMode))
        await repo.set_session(guild_id=GUILD, loop_mode=model.loop_mode)


@pytest.mark.parametrize("keep_played", [None, 3])
async def test_random_operations_agree_with_a_list(
    engine: AsyncEngine, keep_played: int | None
) -> None:
    repo = QueueRepository(engine, keep_played=keep_played)
    model = Model(keep_played=keep_played, names=[f"s{k}" for k in range(8)])
    await repo.append_many(guild_id=GUILD, items=[item(name) for name in model.names])
    rng = random.Random(7 if keep_played is None else 11)
    first_moves: set[int] = set()
    first = (await stored_queue(engine, GUILD)).first

    for n in range(120):
        await step(repo, model, rng, n)
        stored = await stored_queue(engine, GUILD)
        stored.assert_contiguous()
        first_moves.add((stored.first > first) - (stored.first < first))
        first = stored.first
        entries = await repo.items(guild_id=GUILD)
        assert titles(entries) == model.names, f"after operation {n}"
        assert (stored.cursor, stored.length) == (model.cursor, len(model.names))
        assert [entry.is_current for entry in entries] == [
            position == model.cursor for position in range(len(model.names))
        ]

    assert first_moves == {-1, 0, 1}  # the front side moved down, stayed, and moved up
