"""Migration 0002 keeps existing rows (and SQLite's never-reused ids), and its downgrade cuts
values longer than the old columns."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from backbeat.db.engine import create_engine
from backbeat.db.migrate import current_revision, migrate_to

NOW = datetime(2026, 1, 1, tzinfo=UTC).replace(tzinfo=None)


def _columns(connection: Connection, table: str) -> dict[str, object]:
    return {column["name"]: column["type"] for column in inspect(connection).get_columns(table)}


async def test_upgrade_keeps_rows_and_downgrade_cuts_long_values(
    db_backend: str, fresh_database_url: str
) -> None:
    engine = create_engine(fresh_database_url)
    try:
        await migrate_to(engine, "0001")
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO queues (id, guild_id, first_position, cursor_position, item_count,"
                    " loop_mode, volume, paused, position_ms, filters, created_at, updated_at)"
                    " VALUES (1, 10, 0, 0, 2, 'off', 100, false, 0, '{}', :now, :now)"
                ),
                {"now": NOW},
            )
            for position in range(3):
                await conn.execute(
                    text(
                        "INSERT INTO queue_items (queue_id, position, encoded, identifier,"
                        " title, author, length_ms, is_stream, source_name, extra, is_autoplay,"
                        " added_at) VALUES (1, :position, 'QAAA', 'id', 't', 'a', 0, false, 'yt',"
                        " '{}', false, :now)"
                    ),
                    {"position": position, "now": NOW},
                )
            first_ids = sorted(
                row[0] for row in await conn.execute(text("SELECT id FROM queue_items"))
            )
            await conn.execute(
                text("DELETE FROM queue_items WHERE id = :id"), {"id": first_ids[-1]}
            )

        await migrate_to(engine, "0002")
        async with engine.begin() as conn:
            ids = [row[0] for row in await conn.execute(text("SELECT id FROM queue_items"))]
            assert sorted(ids) == first_ids[:2]
            types = await conn.run_sync(_columns, "queue_items")
            assert getattr(types["identifier"], "length", None) == 512
            assert "position_at" in await conn.run_sync(_columns, "queues")
            if db_backend == "mariadb":
                assert "MEDIUMTEXT" in str(types["encoded"]).upper()
            long_author = "🎵" * 400
            await conn.execute(
                text(
                    "INSERT INTO queue_items (queue_id, position, encoded, identifier, title,"
                    " author, length_ms, is_stream, source_name, extra, is_autoplay, added_at)"
                    " VALUES (1, 3, 'QAAA', 'id', 't', :author, 0, false, :source, '{}', false,"
                    " :now)"
                ),
                {"author": long_author, "source": "s" * 60, "now": NOW},
            )
            new_id = (await conn.execute(text("SELECT max(id) FROM queue_items"))).scalar_one()
            assert (
                new_id > first_ids[-1]
            )  # ids are never reused, also after SQLite rebuilt the table

        await migrate_to(engine, "0001")
        assert await current_revision(engine) == "0001"
        async with engine.connect() as conn:
            row = (
                await conn.execute(
                    text("SELECT author, source_name FROM queue_items WHERE id = :id"),
                    {"id": new_id},
                )
            ).one()
            assert row.author == "🎵" * 255
            assert row.source_name == "s" * 32
            assert "applied_messages" not in await conn.run_sync(
                lambda sync: inspect(sync).get_table_names()
            )
        await migrate_to(engine, "head")
    finally:
        await engine.dispose()
