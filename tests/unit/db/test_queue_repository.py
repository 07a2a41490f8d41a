"""Queue operations, one by one, on every selected backend."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest
from db_builders import item, stored_queue
from sqlalchemy.ext.asyncio import AsyncEngine

from backbeat.db.repositories import QueueRepository
from backbeat.db.repositories.queue import session_changes, with_changes
from backbeat.domain.queue import ClearScope, LoopMode, QueueEntry

GUILD = 111_111_111_111_111_111
OTHER = 222_222_222_222_222_222


def titles(entries: list[QueueEntry] | tuple[QueueEntry, ...]) -> list[str]:
    return [entry.track.title.removeprefix("Title ") for entry in entries]


async def assert_contiguous(
    repo: QueueRepository, engine: AsyncEngine, guild_id: int = GUILD
) -> list[QueueEntry]:
    entries = await repo.items(guild_id=guild_id)
    assert [entry.position for entry in entries] == list(range(len(entries)))
    session = await repo.session(guild_id=guild_id)
    assert session is not None
    assert session.length == len(entries)
    assert 0 <= session.cursor <= session.length
    stored = await stored_queue(engine, guild_id)
    stored.assert_contiguous()
    assert stored.ordered_ids() == [entry.item_id for entry in entries]
    return entries


@pytest.fixture
def repo(engine: AsyncEngine) -> QueueRepository:
    return QueueRepository(engine, keep_played=None)


async def test_first_append_becomes_current_and_keeps_track_data(repo: QueueRepository) -> None:
    first = await repo.append(guild_id=GUILD, item=item("a", requester_id=7, is_autoplay=True))
    second = await repo.append(guild_id=GUILD, item=item("b"))

    assert (first.position, first.is_current) == (0, True)
    assert (second.position, second.is_current) == (1, False)
    current = await repo.current(guild_id=GUILD)
    assert current == first
    assert current.track.extra == {"name": "a"}
    assert current.track.length_ms == 180_000
    assert (current.requester_id, current.is_autoplay) == (7, True)
    assert current.added_at.tzinfo is not None


async def test_append_many_keeps_order_and_guilds_apart(
    repo: QueueRepository, engine: AsyncEngine
) -> None:
    entries = await repo.append_many(guild_id=GUILD, items=[item(n) for n in "abcd"])
    await repo.append_many(guild_id=OTHER, items=[item("x")])

    assert titles(entries) == ["a", "b", "c", "d"]
    assert [entry.position for entry in entries] == [0, 1, 2, 3]
    assert len({entry.item_id for entry in entries}) == 4
    assert titles(await repo.items(guild_id=OTHER)) == ["x"]
    assert await repo.append_many(guild_id=GUILD, items=[]) == []
    await assert_contiguous(repo, engine)


async def test_page_lists_upcoming_items_with_total_and_current(repo: QueueRepository) -> None:
    await repo.append_many(guild_id=GUILD, items=[item(str(n)) for n in range(12)])

    page = await repo.page(guild_id=GUILD, offset=0, limit=5)
    assert titles(page.items) == ["1", "2", "3", "4", "5"]
    assert page.total == 11
    assert page.current is not None
    assert page.current.track.title == "Title 0"

    last = await repo.page(guild_id=GUILD, offset=10, limit=5)
    assert titles(last.items) == ["11"]
    empty = await repo.page(guild_id=OTHER, offset=0, limit=5)
    assert (empty.items, empty.total, empty.current) == ((), 0, None)
    with pytest.raises(ValueError, match="negative"):
        await repo.page(guild_id=GUILD, offset=-1, limit=5)


async def test_insert_next_and_insert_at(repo: QueueRepository, engine: AsyncEngine) -> None:
    await repo.append_many(guild_id=GUILD, items=[item(n) for n in "abc"])

    await repo.insert_next(guild_id=GUILD, items=[item("n1"), item("n2")])
    await repo.insert_at(guild_id=GUILD, index=3, items=[item("mid")])
    await repo.insert_at(guild_id=GUILD, index=99, items=[item("end")])

    entries = await assert_contiguous(repo, engine)
    assert titles(entries) == ["a", "n1", "n2", "b", "mid", "c", "end"]


async def test_remove_by_index_and_by_id(repo: QueueRepository, engine: AsyncEngine) -> None:
    entries = await repo.append_many(guild_id=GUILD, items=[item(n) for n in "abcde"])

    removed = await repo.remove(guild_id=GUILD, index=1)
    assert removed is not None
    assert removed.track.title == "Title c"
    assert await repo.remove(guild_id=GUILD, index=10) is None
    assert await repo.remove(guild_id=GUILD, index=-1) is None

    by_id = await repo.remove_item(guild_id=GUILD, item_id=entries[4].item_id)
    assert by_id is not None
    assert by_id.track.title == "Title e"
    assert await repo.remove_item(guild_id=OTHER, item_id=entries[0].item_id) is None

    assert titles(await assert_contiguous(repo, engine)) == ["a", "b", "d"]


async def test_removing_played_or_current_items_keeps_the_cursor_right(
    repo: QueueRepository,
    engine: AsyncEngine,
) -> None:
    entries = await repo.append_many(guild_id=GUILD, items=[item(n) for n in "abcd"])
    await repo.advance(guild_id=GUILD)
    await repo.advance(guild_id=GUILD)  # current: c

    await repo.remove_item(guild_id=GUILD, item_id=entries[0].item_id)  # played
    current = await repo.current(guild_id=GUILD)
    assert current is not None
    assert current.track.title == "Title c"

    await repo.remove_item(guild_id=GUILD, item_id=entries[2].item_id)  # the current one
    current = await repo.current(guild_id=GUILD)
    assert current is not None
    assert current.track.title == "Title d"
    assert titles(await assert_contiguous(repo, engine)) == ["b", "d"]


async def test_move_up_and_down(repo: QueueRepository, engine: AsyncEngine) -> None:
    await repo.append_many(guild_id=GUILD, items=[item(n) for n in "cabde"])  # c current

    moved = await repo.move(guild_id=GUILD, from_index=0, to_index=3)
    assert moved is not None
    assert moved.track.title == "Title a"
    assert moved.position == 4
    assert titles(await assert_contiguous(repo, engine)) == ["c", "b", "d", "e", "a"]

    await repo.move(guild_id=GUILD, from_index=3, to_index=0)
    assert titles(await assert_contiguous(repo, engine)) == ["c", "a", "b", "d", "e"]
    assert await repo.move(guild_id=GUILD, from_index=0, to_index=4) is None
    same = await repo.move(guild_id=GUILD, from_index=2, to_index=2)
    assert same is not None
    assert same.track.title == "Title d"


async def test_shuffle_keeps_current_and_played_items(
    repo: QueueRepository, engine: AsyncEngine
) -> None:
    await repo.append_many(guild_id=GUILD, items=[item(str(n)) for n in range(30)])
    await repo.advance(guild_id=GUILD)  # current: 1, played: 0

    count = await repo.shuffle(guild_id=GUILD, rng=random.Random(3))
    entries = await assert_contiguous(repo, engine)

    assert count == 28
    assert titles(entries[:2]) == ["0", "1"]
    assert sorted(titles(entries[2:]), key=int) == [str(n) for n in range(2, 30)]
    assert titles(entries[2:]) != [str(n) for n in range(2, 30)]
    current = await repo.current(guild_id=GUILD)
    assert current is not None
    assert current.track.title == "Title 1"


async def test_clear_upcoming_then_all(repo: QueueRepository, engine: AsyncEngine) -> None:
    await repo.append_many(guild_id=GUILD, items=[item(n) for n in "abcde"])
    await repo.advance(guild_id=GUILD)  # current: b

    assert await repo.clear(guild_id=GUILD) == 3
    assert titles(await assert_contiguous(repo, engine)) == ["a", "b"]
    assert (await repo.page(guild_id=GUILD)).total == 0

    assert await repo.clear(guild_id=GUILD, scope=ClearScope.ALL) == 2
    assert await assert_contiguous(repo, engine) == []
    assert await repo.current(guild_id=GUILD) is None
    first = await repo.append(guild_id=GUILD, item=item("z"))
    assert first.is_current


async def test_advance_without_loop_ends_and_restarts_on_append(repo: QueueRepository) -> None:
    await repo.append_many(guild_id=GUILD, items=[item(n) for n in "ab"])

    nxt = await repo.advance(guild_id=GUILD)
    assert nxt is not None
    assert nxt.track.title == "Title b"
    assert nxt.is_current
    assert await repo.advance(guild_id=GUILD) is None
    assert await repo.advance(guild_id=GUILD) is None
    assert await repo.current(guild_id=GUILD) is None

    late = await repo.append(guild_id=GUILD, item=item("c"))
    assert late.is_current
    assert late.position == 2
    assert await repo.advance(guild_id=OTHER) is None


async def test_advance_with_track_loop_repeats(repo: QueueRepository) -> None:
    await repo.append_many(guild_id=GUILD, items=[item(n) for n in "ab"])
    await repo.set_session(guild_id=GUILD, loop_mode=LoopMode.TRACK)

    again = await repo.advance(guild_id=GUILD)
    assert again is not None
    assert again.track.title == "Title a"
    skipped = await repo.advance(guild_id=GUILD, loop_mode=LoopMode.OFF)
    assert skipped is not None
    assert skipped.track.title == "Title b"


async def test_advance_with_queue_loop_wraps_and_previous_wraps(repo: QueueRepository) -> None:
    await repo.append_many(guild_id=GUILD, items=[item(n) for n in "abc"])
    await repo.set_session(guild_id=GUILD, loop_mode=LoopMode.QUEUE)

    seen = [(await repo.advance(guild_id=GUILD)) for _ in range(4)]
    assert [entry.track.title[-1] for entry in seen if entry] == ["b", "c", "a", "b"]

    back = await repo.previous(guild_id=GUILD)
    assert back is not None
    assert back.track.title == "Title a"
    wrapped = await repo.previous(guild_id=GUILD)
    assert wrapped is not None
    assert wrapped.track.title == "Title c"


async def test_previous_without_loop(repo: QueueRepository) -> None:
    assert await repo.previous(guild_id=GUILD) is None
    await repo.append_many(guild_id=GUILD, items=[item(n) for n in "ab"])
    assert await repo.previous(guild_id=GUILD) is None
    await repo.advance(guild_id=GUILD)
    await repo.advance(guild_id=GUILD)  # ended
    back = await repo.previous(guild_id=GUILD)
    assert back is not None
    assert back.track.title == "Title b"
    back = await repo.previous(guild_id=GUILD)
    assert back is not None
    assert back.track.title == "Title a"


async def test_skip_to_and_played_items_are_trimmed(engine: AsyncEngine) -> None:
    repo = QueueRepository(engine, keep_played=2)
    await repo.append_many(guild_id=GUILD, items=[item(str(n)) for n in range(10)])

    current = await repo.skip_to(guild_id=GUILD, index=5)  # current: 6
    assert current is not None
    assert current.track.title == "Title 6"
    assert current.position == 2
    assert titles(await assert_contiguous(repo, engine)) == ["4", "5", "6", "7", "8", "9"]
    assert await repo.skip_to(guild_id=GUILD, index=3) is None

    await repo.advance(guild_id=GUILD)
    entries = await assert_contiguous(repo, engine)
    assert titles(entries) == ["5", "6", "7", "8", "9"]
    assert [entry.is_current for entry in entries] == [False, False, True, False, False]


async def test_session_fields_round_trip(repo: QueueRepository) -> None:
    assert await repo.session(guild_id=GUILD) is None
    session = await repo.set_session(
        guild_id=GUILD,
        voice_channel_id=1_000_000_000_000_000_001,
        text_channel_id=1_000_000_000_000_000_002,
        announce_channel_id=1_000_000_000_000_000_003,
        now_playing_message_id=9_223_372_036_854_775_807,
        loop_mode=LoopMode.QUEUE,
        volume=150,
        paused=True,
        position_ms=61_000,
        filters={"timescale": {"speed": 1.25}},
        node_name="eu-1",
        lavalink_session_id="abc123",
    )
    assert session.now_playing_message_id == 2**63 - 1
    assert session.filters == {"timescale": {"speed": 1.25}}
    assert (session.loop_mode, session.volume, session.paused) == (LoopMode.QUEUE, 150, True)
    assert session.updated_at is not None
    assert session.updated_at.tzinfo is not None

    cleared = await repo.set_session(guild_id=GUILD, now_playing_message_id=None, paused=False)
    assert cleared.now_playing_message_id is None
    assert cleared.voice_channel_id == 1_000_000_000_000_000_001
    assert await repo.session(guild_id=GUILD) == cleared
    with pytest.raises(ValueError, match="volume"):
        await repo.set_session(guild_id=GUILD, volume=5000)


async def test_sessions_by_partition_count_and_delete(repo: QueueRepository) -> None:
    for guild_id in (10, 11, 12, 13):
        await repo.append_many(guild_id=guild_id, items=[item("a"), item("b"), item("c")])

    assert [s.guild_id for s in await repo.sessions()] == [10, 11, 12, 13]
    assert [s.guild_id for s in await repo.sessions(partition=1, partitions=2)] == [11, 13]
    assert await repo.count() == 8
    assert await repo.count(guild_ids=[10]) == 2
    with pytest.raises(ValueError, match="both"):
        await repo.sessions(partition=1)

    assert await repo.delete_session(guild_id=10)
    assert not await repo.delete_session(guild_id=10)
    assert await repo.items(guild_id=10) == []
    assert await repo.count() == 6


async def test_item_ids_are_never_reused(repo: QueueRepository) -> None:
    first = await repo.append(guild_id=GUILD, item=item("a"))
    second = await repo.append(guild_id=GUILD, item=item("b"))
    await repo.remove_item(guild_id=GUILD, item_id=second.item_id)

    third = await repo.append(guild_id=GUILD, item=item("c"))

    assert third.item_id not in {first.item_id, second.item_id}
    assert await repo.remove_item(guild_id=GUILD, item_id=second.item_id) is None


async def test_views_read_many_guilds_sessions_currents_and_upcoming_lengths(
    repo: QueueRepository, engine: AsyncEngine
) -> None:
    await repo.append_many(guild_id=GUILD, items=[item(n) for n in "abc"])
    await repo.skip_to(guild_id=GUILD, index=0)  # b current, c upcoming
    await repo.append_many(guild_id=OTHER, items=[item("x")])
    await repo.advance(guild_id=OTHER)  # ended: no current

    views = await repo.views(guild_ids=[GUILD, OTHER, 333, GUILD])

    assert sorted(views) == [GUILD, OTHER]
    mine = views[GUILD]
    assert mine.current == await repo.current(guild_id=GUILD)
    assert mine.session == await repo.session(guild_id=GUILD)
    assert mine.upcoming_ms == 180_000
    assert views[OTHER].current is None
    assert views[OTHER].upcoming_ms == 0
    assert await repo.views(guild_ids=[]) == {}


async def test_write_sessions_sets_each_guilds_own_columns_in_one_statement(
    repo: QueueRepository, engine: AsyncEngine
) -> None:
    await repo.append_many(guild_id=GUILD, items=[item("a")])
    await repo.append_many(guild_id=OTHER, items=[item("x")])
    await repo.set_session(guild_id=OTHER, volume=70, position_ms=5_000)
    mine = session_changes(paused=True, position_ms=1_234, loop_mode=LoopMode.QUEUE)
    other = session_changes(filters={"timescale": {"speed": 1.2}})
    before = await repo.session(guild_id=GUILD)
    assert before is not None

    async with engine.begin() as conn:
        await repo.write_sessions(changes={GUILD: mine, OTHER: other}, conn=conn)

    session = await repo.session(guild_id=GUILD)
    assert session is not None
    # what a batch shows from memory is what SQL then holds
    assert session == replace(with_changes(before, mine), updated_at=session.updated_at)
    assert (session.paused, session.position_ms, session.loop_mode) == (True, 1_234, LoopMode.QUEUE)
    kept = await repo.session(guild_id=OTHER)
    assert kept is not None
    assert (kept.volume, kept.position_ms, kept.paused) == (70, 5_000, False)  # not in its changes
    assert kept.filters == {"timescale": {"speed": 1.2}}
    with pytest.raises(ValueError, match="volume"):
        session_changes(volume=1_001)
