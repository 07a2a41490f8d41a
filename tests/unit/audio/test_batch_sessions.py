"""A batch's sessions in memory: staged changes kept for commands that ran to the end,
dropped for refused or failed ones, shown over what was read."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import cast

import pytest

from backbeat.audio.batch_sessions import BatchSessions
from backbeat.db.repositories.queue import QueueRepository, SessionView, session_changes
from backbeat.domain.queue import LoopMode, QueueEntry, QueueSession, QueueTrack

GUILD, OTHER, NONE = 1, 2, 3

CURRENT = QueueEntry(
    item_id=5,
    position=0,
    track=QueueTrack(encoded="e", identifier="i", title="t", author="a", length_ms=9_000),
    requester_id=None,
    is_autoplay=False,
    added_at=datetime(2026, 1, 1, tzinfo=UTC),
    is_current=True,
)


def _loaded() -> BatchSessions:
    sessions = BatchSessions(cast(QueueRepository, None))  # no I/O in these tests
    read = SessionView(QueueSession(guild_id=GUILD, cursor=0, length=3), CURRENT, 18_000)
    sessions.load({GUILD: read}, [GUILD, NONE])
    return sessions


def test_a_commands_changes_show_at_once_and_stay_once_it_ran_to_the_end() -> None:
    sessions = _loaded()
    sessions.begin(staging=True)
    assert sessions.staging
    staged = sessions.stage(GUILD, session_changes(paused=True, volume=40))
    assert (staged.paused, staged.volume) == (True, 40)
    sessions.commit()
    assert not sessions.staging

    sessions.begin(staging=True)
    sessions.stage(GUILD, session_changes(loop_mode=LoopMode.QUEUE))
    sessions.drop()  # refused: its loop change is gone, the earlier ones stay

    view = sessions.view(GUILD)
    assert view is not None
    assert (view.session.paused, view.session.volume) == (True, 40)
    assert view.session.loop_mode is LoopMode.OFF
    assert (view.current, view.upcoming_ms) == (CURRENT, 18_000)


def test_guilds_without_a_session_or_not_read() -> None:
    sessions = _loaded()
    assert sessions.known(NONE)
    assert sessions.view(NONE) is None
    assert sessions.session(NONE) is None
    assert not sessions.known(OTHER)
    sessions.begin(staging=True)
    with pytest.raises(ValueError, match="no session"):
        sessions.stage(NONE, session_changes(volume=10))
    sessions.forget(GUILD)
    assert not sessions.known(GUILD)
