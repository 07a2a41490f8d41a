"""Length limits: every message field fits its column, and the longest values allowed (4-byte
emoji included) are stored and read back equal on every backend."""

from __future__ import annotations

import dataclasses
import typing
from typing import Any

import pytest
from annotated_types import MaxLen
from pydantic import BaseModel
from sqlalchemy import ColumnElement, String, Table
from sqlalchemy.dialects import mysql
from sqlalchemy.ext.asyncio import AsyncEngine

from backbeat.db.models import (
    AppliedMessage,
    AuditLog,
    EventStoreEvent,
    LyricsCache,
    PlaybackHistory,
    QueueItem,
)
from backbeat.db.repositories import (
    AppliedMessagesRepository,
    AuditRepository,
    EventStoreRepository,
    HistoryRepository,
    LyricsRepository,
    QueueRepository,
)
from backbeat.domain import limits
from backbeat.domain.messages.commands import AutoplayRejectPayload, Command
from backbeat.domain.messages.common import TrackSummary
from backbeat.domain.messages.envelope import Envelope, new_message_id
from backbeat.domain.messages.to_discord import LyricsPayload
from backbeat.domain.queue import NewQueueItem, QueueTrack
from backbeat.domain.records import AuditSource

GUILD = 313_313_313_313_313_313
TRACK_TABLES: tuple[Table, ...] = (QueueItem.__table__, PlaybackHistory.__table__)  # type: ignore[assignment]
#: Bytes a MariaDB ``MEDIUMTEXT`` holds.
MEDIUMTEXT_BYTES = 2**24 - 1


def _max_length(model: type[BaseModel], field: str) -> int | None:
    lengths = [
        item.max_length for item in model.model_fields[field].metadata if isinstance(item, MaxLen)
    ]
    return lengths[0] if lengths else None


def _column_length(column: ColumnElement[Any]) -> int | None:
    return column.type.length if isinstance(column.type, String) else None


def _emoji_text(length: int, prefix: str = "") -> str:
    """``length`` characters: ``prefix`` then 4-byte emoji and a few other scripts."""
    filler = "🎵é漢🎸a"
    body = (filler * (length // len(filler) + 1))[: length - len(prefix)]
    return prefix + body


# --- every message field fits its column ------------------------------------------------------


@pytest.mark.parametrize("field", [name for name in TrackSummary.model_fields if name != "encoded"])
def test_track_summary_fields_equal_their_columns(field: str) -> None:
    limit = _max_length(TrackSummary, field)
    columns = [table.c[field] for table in TRACK_TABLES if field in table.c]
    if limit is None:  # numbers and flags
        assert all(_column_length(column) is None for column in columns)
        return
    assert columns, f"TrackSummary.{field} has a limit but no column stores it"
    for column in columns:
        assert _column_length(column) == limit, f"{column.table.name}.{field}"


def test_every_limited_track_column_has_a_message_field() -> None:
    """The other way round: a track column with a length is a TrackSummary field."""
    for table in TRACK_TABLES:
        for column in table.c:
            length = _column_length(column)
            if length is not None and column.name != "skip_reason":
                assert _max_length(TrackSummary, column.name) == length, column


def test_the_encoded_track_fits_its_column_on_every_backend() -> None:
    limit = _max_length(TrackSummary, "encoded")
    assert limit == limits.TRACK_ENCODED
    column_type = QueueItem.__table__.c.encoded.type
    assert _column_length(QueueItem.__table__.c.encoded) is None  # TEXT: unbounded
    assert isinstance(column_type.dialect_impl(mysql.dialect()), mysql.MEDIUMTEXT)
    assert limit * 4 <= MEDIUMTEXT_BYTES


def test_other_message_fields_equal_their_columns() -> None:
    pairs: list[tuple[type[BaseModel], str, ColumnElement[Any]]] = [
        (Envelope, "id", AppliedMessage.__table__.c.message_id),
        (AutoplayRejectPayload, "identifier", QueueItem.__table__.c.identifier),
        (LyricsPayload, "source", LyricsCache.__table__.c.source),
        (LyricsPayload, "title", QueueItem.__table__.c.title),
        (LyricsPayload, "author", QueueItem.__table__.c.author),
    ]
    for model, field, column in pairs:
        assert _max_length(model, field) == _column_length(column), f"{model.__name__}.{field}"


def test_every_command_type_fits_the_applied_audit_and_event_columns() -> None:
    union = typing.get_args(Command)[0]
    types = [
        typing.get_args(member.model_fields["type"].annotation)[0]
        for member in typing.get_args(union)
    ]
    assert len(types) > 20
    for column in (
        AppliedMessage.__table__.c.command_type,
        AuditLog.__table__.c.action,
        EventStoreEvent.__table__.c.type,
    ):
        length = _column_length(column)
        assert length == limits.MESSAGE_TYPE
        assert max(len(kind) for kind in types) <= length


def test_identifier_indexable_on_mariadb() -> None:
    assert limits.TRACK_IDENTIFIER <= limits.MARIADB_INDEX_CHARS
    assert limits.LYRICS_TRACK_KEY <= limits.MARIADB_INDEX_CHARS
    assert limits.LEASE_POOL <= limits.MARIADB_INDEX_CHARS


# --- the longest values go through the repositories and come back equal ----------------------


def _longest_track() -> QueueTrack:
    summary = TrackSummary(
        title=_emoji_text(limits.TRACK_TITLE),
        author=_emoji_text(limits.TRACK_AUTHOR),
        uri=_emoji_text(limits.TRACK_URI, "https://example.test/"),
        identifier=_emoji_text(limits.TRACK_IDENTIFIER, "https://example.test/"),
        source_name=_emoji_text(limits.TRACK_SOURCE_NAME),
        length_ms=2**40,
        artwork_url=_emoji_text(limits.TRACK_ARTWORK_URL, "https://img.example.test/"),
        encoded=_emoji_text(limits.TRACK_ENCODED, "QAAA"),
    )  # the message accepts every value
    assert summary.encoded is not None
    return QueueTrack(
        encoded=summary.encoded,
        identifier=summary.identifier,
        title=summary.title,
        author=summary.author,
        length_ms=summary.length_ms,
        uri=summary.uri,
        source_name=summary.source_name,
        artwork_url=summary.artwork_url,
        extra={"note": _emoji_text(100)},
    )


async def test_longest_track_values_round_trip(engine: AsyncEngine) -> None:
    track = _longest_track()
    queue = QueueRepository(engine)
    stored = await queue.append(guild_id=GUILD, item=NewQueueItem(track=track, requester_id=1))
    assert stored.track == track
    [read] = await queue.items(guild_id=GUILD)
    assert read.track == track

    history = HistoryRepository(engine)
    record = await history.start(guild_id=GUILD, track=track)
    [back] = await history.recent(guild_id=GUILD)
    assert back == record
    assert (back.identifier, back.title, back.author, back.uri, back.source_name) == (
        track.identifier,
        track.title,
        track.author,
        track.uri,
        track.source_name,
    )


async def test_a_long_http_url_as_identifier_is_stored(engine: AsyncEngine) -> None:
    """The case that used to fail on PostgreSQL and MariaDB: a 334-character URL."""
    url = "https://media.example.test/" + "a" * (334 - len("https://media.example.test/"))
    assert len(url) == 334
    track = QueueTrack(encoded="QAAA", identifier=url, title=url, uri=url, source_name="http")
    queue = QueueRepository(engine)
    await queue.append(guild_id=GUILD, item=NewQueueItem(track=track))
    [read] = await queue.items(guild_id=GUILD)
    assert read.track.identifier == url


async def test_longest_record_values_round_trip(engine: AsyncEngine) -> None:
    key = _emoji_text(limits.LYRICS_TRACK_KEY)
    source = _emoji_text(limits.LYRICS_SOURCE)
    lyrics = LyricsRepository(engine)
    await lyrics.put(track_key=key, lyrics=_emoji_text(20_000), source=source)
    cached = await lyrics.get(track_key=key)
    assert cached is not None
    assert (cached.track_key, cached.source, cached.lyrics) == (key, source, _emoji_text(20_000))

    action = "a" * limits.AUDIT_ACTION
    audit = await AuditRepository(engine).append(action=action, source=AuditSource.SYSTEM)
    assert (await AuditRepository(engine).recent())[0] == audit

    kind = "e" * limits.EVENT_TYPE
    await EventStoreRepository(engine).append(guild_id=GUILD, type=kind)
    assert (await EventStoreRepository(engine).read_from(guild_id=GUILD))[0].type == kind

    applied = AppliedMessagesRepository(engine)
    message_id = new_message_id()
    reply = {"text": _emoji_text(2000)}
    await applied.record(
        None,
        message_id=message_id,
        guild_id=GUILD,
        command_type="c" * limits.MESSAGE_TYPE,
        reply=reply,
    )
    found = await applied.find(None, message_id)
    assert found is not None
    assert found.reply == reply


@pytest.mark.parametrize(
    "field", ["encoded", "identifier", "title", "author", "uri", "source_name", "artwork_url"]
)
async def test_one_character_too_many_is_refused_on_every_backend(
    engine: AsyncEngine, field: str
) -> None:
    limit = _max_length(TrackSummary, field)
    assert limit is not None
    fitting = QueueTrack(encoded="QAAA", identifier="id", title="t")
    too_long: dict[str, Any] = {field: "🎵" * (limit + 1)}
    track = dataclasses.replace(fitting, **too_long)
    with pytest.raises(ValueError, match=field):
        await QueueRepository(engine).append(guild_id=GUILD, item=NewQueueItem(track=track))
    with pytest.raises(ValueError, match=field):
        await HistoryRepository(engine).start(guild_id=GUILD, track=track)
    assert await QueueRepository(engine).items(guild_id=GUILD) == []
