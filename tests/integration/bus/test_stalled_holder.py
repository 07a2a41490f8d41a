"""A holder whose event loop stalls past the lease TTL is refused by its fencing token in SQL.

Worker ``audio-a`` holds the only partition and blocks its loop (``time.sleep``) inside a
handler, between the message's start and its SQL commit, for several lease TTLs and then
until the test wakes it: once worker ``audio-b`` has acquired the partition (a higher
fencing token), taken back every message ``audio-a`` had in hand and committed them, so the
order of events does not hang on how fast a loaded machine runs ``audio-b``. When
``audio-a`` wakes, ``advance_fence`` in its transaction refuses its older token: its effect
never reaches SQL, and the committed effects stay in publish order.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from bus_process_harness import (
    Cluster,
    Publisher,
    count,
    open_runs,
    pending_report,
    timeline,
)
from sqlalchemy import BigInteger, Column, Integer, MetaData, String, Table, select

from backbeat.bus.factory import redis_bus
from backbeat.bus.interface import BusConfig
from backbeat.db.engine import create_engine
from backbeat.db.migrate import migrate_to
from backbeat.domain.messages import Channel
from backbeat.testing.redis_server import RedisServer

pytestmark = pytest.mark.slow

TTL_MS = 1500
GUILDS = range(3000, 3006)

effects = Table(
    "bus_test_effects",
    MetaData(),
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("guild_id", BigInteger, nullable=False),
    Column("seq", Integer, nullable=False),
    Column("worker", String(32), nullable=False),
    Column("fence", BigInteger, nullable=False),
)


async def committed(url: str) -> list[dict[str, Any]]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(select(effects).order_by(effects.c.id))
            return [dict(row._mapping) for row in rows]
    finally:
        await engine.dispose()


def one(events: list[dict[str, Any]], kind: str, life: str) -> dict[str, Any]:
    found = [e for e in events if e["k"] == kind and e["life"] == life]
    assert len(found) == 1, (kind, life, found)
    return found[0]


async def test_a_stalled_holder_is_refused_by_its_fencing_token(
    redis_server: RedisServer, fresh_database_url: str, tmp_path: Path
) -> None:
    pytest.importorskip("backbeat.db.repositories.fencing", reason="advance_fence not there yet")
    engine = create_engine(fresh_database_url)
    try:
        await migrate_to(engine, "head")
        async with engine.begin() as conn:
            await conn.run_sync(effects.metadata.create_all)
    finally:
        await engine.dispose()

    stall = tmp_path / "stall-audio-a"
    wake = tmp_path / "wake-audio-a"
    cluster = Cluster(
        redis_server.url,
        "stall:",
        tmp_path,
        partitions=1,
        ttl_ms=TTL_MS,
        handle_ms=5.0,
        db_url=fresh_database_url,
    )
    bus = redis_bus(redis_server.url, prefix="stall:", config=BusConfig(partitions=1))
    try:
        publisher = Publisher(bus, GUILDS, chunk=6, pause=0.03, limit=len(GUILDS) * 1000)
        publisher.start()
        cluster.start("audio-a", "--stall-file", str(stall), "--wake-file", str(wake))
        await cluster.wait_for(lambda ev: count("end", ev) >= 30, 60, "audio-a commits 30")
        cluster.start("audio-b")
        await cluster.wait_for(lambda ev: count("ready", ev, "audio-b.0") == 1, 60, "b ready")

        stall.write_text(str(TTL_MS * 4 / 1000))
        await cluster.wait_for(lambda ev: count("stall", ev, "audio-a.0") == 1, 60, "a stalls")
        # Nothing more after the stall began, so the set of messages is known.
        sent = await publisher.stop()
        held = open_runs(cluster.events(), "audio-a.0")  # its loop is blocked: final
        assert held, "audio-a stalled with nothing in hand"

        def b_committed_what_a_held(events: list[dict[str, Any]]) -> bool:
            by_b = {
                (e["g"], e["s"]) for e in events if e["k"] == "end" and e["life"] == "audio-b.0"
            }
            return set(held) <= by_b

        await cluster.wait_for(b_committed_what_a_held, 120, "b commits what a held")
        wake.write_text("")
        await cluster.wait_for(lambda ev: count("woke", ev, "audio-a.0") == 1, 60, "a wakes")

        deadline = time.monotonic() + 60
        while {(r["guild_id"], r["seq"]) for r in await committed(fresh_database_url)} != set(sent):
            assert not cluster.crashed(), cluster.crashed()
            if time.monotonic() > deadline:
                pending = await pending_report(redis_server.url, "stall:", 1)
                raise AssertionError(f"not every message committed in 60 s; pending:\n{pending}")
            await asyncio.sleep(0.2)
        events = await cluster.wait_for(
            lambda ev: not open_runs(ev, "audio-a.0"), 60, "audio-a done with what it held"
        )
        dead = await bus.dead_letters(Channel.COMMANDS)
        for worker in list(cluster.running):
            cluster.term(worker)
    finally:
        cluster.stop_all()
        await bus.close()

    stalled = one(events, "stall", "audio-a.0")
    key = (stalled["g"], stalled["s"])
    print(timeline(events, stalled["t"], TTL_MS * 6 / 1000))  # shown when the test fails
    # Every handler audio-a had in flight when its loop stopped (other guilds' too, their
    # lanes run side by side) is refused at its commit (or cancelled by its reader, which
    # learnt the lease is lost), the stalled one included: the stall held no SQL lock, so
    # audio-b's first commit raised the fence meanwhile.
    refused = [e for e in events if e["k"] in {"refused", "cancelled"}]
    assert key in {(e["g"], e["s"]) for e in refused}
    assert {(e["life"], e["f"]) for e in refused} == {("audio-a.0", stalled["f"])}
    woke_at = one(events, "woke", "audio-a.0")["t"]
    late = [
        e
        for e in events
        if e["life"] == "audio-a.0" and e["t"] > woke_at and e["k"] in {"start", "end"}
    ]
    assert late == [], "audio-a went on handling after it woke without its lease"
    woke = one(events, "woke", "audio-a.0")
    assert woke["current"] is False, "still_current() said yes after the lease moved on"

    # audio-b took the refused messages over with a higher token while audio-a slept.
    for lost in refused:
        taken = [
            e
            for e in events
            if e["k"] == "start"
            and e["life"] == "audio-b.0"
            and (e["g"], e["s"]) == (lost["g"], lost["s"])
        ]
        assert taken, f"audio-b never handled {lost['g']}/{lost['s']}, which audio-a held"
        assert taken[0]["t"] < woke["t"]
        assert taken[0]["f"] > stalled["f"]

    rows = await committed(fresh_database_url)
    assert not [
        r
        for r in rows
        if (r["guild_id"], r["seq"]) == (stalled["g"], stalled["s"])
        if r["worker"] == "audio-a"
    ], "the stalled holder's effect reached SQL"
    fences = [r["fence"] for r in rows]
    assert fences == sorted(fences), "an older token committed after a newer one"
    for guild in GUILDS:
        seqs = [r["seq"] for r in rows if r["guild_id"] == guild]
        assert seqs == sorted(seqs), f"guild {guild} effects out of publish order: {seqs}"
    assert dead == [], "a stale holder dead-lettered a message the new owner handles"
