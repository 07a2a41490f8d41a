"""Failed and stuck tracks over the bus with the Lavalink emulator's fault injection.

Each fault kind of the emulator's failure table (``backbeat.testing.lavalink.failures``)
takes its class's path: retry with backoff then play; retries used up then skip; skip at
once; with the PlaybackHistory rows and the ``ui:now`` ``error`` notice. A stuck track is
retried once from its position, then skipped; failures in a row stop at the streak limit
with one message. The backoff is recorded through ``Audio.sleep`` (no waiting, no
wall-clock asserts); mid-track faults fire on the emulator's manual clock.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from audio_rig import WAIT, AudioRig, PlaybackHistory, RigFactory, fast_settings

from backbeat.audio.search import plain_message
from backbeat.domain.messages.commands import CommandEnvelope, Play, QueryPayload, QueueView
from backbeat.domain.messages.to_discord import (
    Notice,
    QueueEnd,
    QueuePage,
    TrackEnd,
    TrackException,
    TrackStart,
)
from backbeat.domain.messages.ui import UiError, UiUpdate
from backbeat.domain.playback_errors import STUCK, classify
from backbeat.testing.lavalink.catalog import Catalog, CatalogTrack
from backbeat.testing.lavalink.failures import FAILURES

GUILD = 1_000_000_041

#: Every kind of the emulator's failure table: the class it is, and whether it is retried.
KINDS: dict[str, tuple[str, bool]] = {
    "unavailable": ("unavailable", False),
    "region_blocked": ("region_blocked", False),
    "age_restricted": ("age_restricted", False),
    "bot_check": ("sign_in", False),
    "sign_in": ("sign_in", False),
    "private": ("private", False),
    "unknown_format": ("decoding", False),
    "network_error": ("network", True),
    "rate_limited": ("rate_limited", True),
    "decoding": ("decoding", True),
}
SKIPPED_AT_ONCE = [kind for kind, (_, retried) in KINDS.items() if not retried]
RETRIED = [kind for kind, (_, retried) in KINDS.items() if retried]


def test_the_table_covers_every_fault_kind_of_the_emulator() -> None:
    assert set(KINDS) == set(FAILURES)
    for kind, (failure_class, retryable) in KINDS.items():
        exception = FAILURES[kind].to_json()
        found = classify(str(exception["message"]), str(exception["cause"]))
        assert (found.failure_class.value, found.retryable) == (failure_class, retryable), kind


def _tracks() -> list[CatalogTrack]:
    catalog = Catalog.default()
    return [t for t in catalog.tracks if t.youtube_id and not t.failure and not t.is_stream]


def _url(track: CatalogTrack) -> str:
    return f"https://www.youtube.com/watch?v={track.youtube_id}"


def _retry_settings(**overrides: Any) -> Any:
    values: dict[str, Any] = {
        "play_retry_base_s": 0.05,
        "play_retry_cap_s": 1.0,
        "play_retry_attempts": 2,
    }
    values.update(overrides)
    return fast_settings(**values)


def _record_backoff(rig: AudioRig) -> list[float]:
    """The delays the worker's retries wait, recorded (and not waited)."""
    assert rig.worker is not None
    delays: list[float] = []

    async def sleep(seconds: float) -> None:
        delays.append(seconds)
        await asyncio.sleep(0)

    rig.worker.audio.sleep = sleep
    return delays


async def _play(rig: AudioRig, track: CatalogTrack, guild_id: int = GUILD) -> None:
    command = Play(
        guild_id=guild_id, context=rig.context(), payload=QueryPayload(query=_url(track))
    )
    reply = await rig.reply(await rig.send(command))
    assert isinstance(reply, Notice), reply


async def _settled(rig: AudioRig, guild_id: int = GUILD) -> None:
    """Every earlier command of the guild was handled (its lane is in order)."""
    command: CommandEnvelope = QueueView(guild_id=guild_id, context=rig.context())
    assert isinstance(await rig.reply(await rig.send(command)), QueuePage)


async def _until(check: Callable[[], Awaitable[bool]], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not await check():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.02)


async def _reasons(rig: AudioRig, guild_id: int = GUILD) -> list[str | None]:
    return [h.skip_reason for h in await rig.rows(PlaybackHistory, guild_id)]


async def _playing(rig: AudioRig, track: CatalogTrack, guild_id: int = GUILD) -> bool:
    player = await rig.node_player(guild_id)
    return (
        player is not None
        and player["track"] is not None
        and player["track"]["info"]["identifier"] == track.youtube_id
    )


async def _step_to(rig: AudioRig, ms: int) -> None:
    """Move the node's clock in 5 s steps (each sends a playerUpdate: the position is known)."""
    for _ in range(ms // 5_000):
        await rig.emulator.control.advance(5_000)
    await asyncio.sleep(0.1)  # the playerUpdates reach the worker


async def test_kinds_that_are_not_retryable_are_skipped_at_once(make_rig: RigFactory) -> None:
    rig = await make_rig(_retry_settings())
    delays = _record_backoff(rig)
    tracks = _tracks()
    guilds = {kind: GUILD + 1 + n for n, kind in enumerate(SKIPPED_AT_ONCE)}
    for n, kind in enumerate(SKIPPED_AT_ONCE):
        failing, good = tracks[2 * n], tracks[2 * n + 1]
        await rig.emulator.control.fail_load(str(failing.youtube_id), kind=kind, stage="play")
        await _play(rig, failing, guilds[kind])
        await _play(rig, good, guilds[kind])
    for n, kind in enumerate(SKIPPED_AT_ONCE):
        guild_id, good = guilds[kind], tracks[2 * n + 1]
        notice = await rig.ui.wait(UiError, lambda m, g=guild_id: m.guild_id == g)
        exception = FAILURES[kind].to_json()
        found = classify(str(exception["message"]), str(exception["cause"]))
        assert notice.payload.code == KINDS[kind][0], kind
        assert notice.payload.skipped, kind
        assert notice.payload.message == plain_message(found), kind
        assert notice.payload.message != exception["message"], "a sentence, not the source's"
        assert notice.payload.text_channel_id == 9_500
        await _until(lambda g=guild_id, t=good: _playing(rig, t, g), f"{kind}: next track")
        await rig.discord.count(TrackStart, 2, guild_id)
        assert await _reasons(rig, guild_id) == ["error", None], kind
        failed = rig.discord.of(TrackException, guild_id)
        assert [m.payload.retryable for m in failed] == [False], kind
        end = rig.discord.of(TrackEnd, guild_id)
        assert [m.payload.reason for m in end] == ["loadFailed"], kind
    assert delays == [], "nothing was retried"
    for kind, guild_id in guilds.items():
        assert len(rig.ui.of(UiError, guild_id)) == 1, kind


@pytest.mark.parametrize("kind", RETRIED)
async def test_retryable_kinds_are_retried_with_backoff_then_play(
    make_rig: RigFactory, kind: str
) -> None:
    rig = await make_rig(_retry_settings(play_retry_attempts=3))
    delays = _record_backoff(rig)
    track, other = _tracks()[0], _tracks()[1]
    await rig.emulator.control.fail_load(str(track.youtube_id), kind=kind, stage="play", times=2)
    await _play(rig, track)
    await _play(rig, other)
    await rig.discord.count(TrackException, 2, GUILD)
    await _until(lambda: _playing(rig, track), "the retried track plays")
    await _settled(rig)
    assert delays == [0.05, 0.1], "exponential backoff"
    assert [m.payload.retryable for m in rig.discord.of(TrackException, GUILD)] == [True, True]
    assert rig.ui.of(UiError, GUILD) == [], "a retry is silent"
    assert len(rig.discord.of(TrackStart, GUILD)) == 1, "a retry is the same track going on"
    assert rig.discord.of(TrackEnd, GUILD) == []
    history = await rig.rows(PlaybackHistory, GUILD)
    assert [(h.identifier, h.skip_reason, h.ended_at) for h in history] == [
        (track.youtube_id, None, None)
    ], "one row, still open"


async def test_a_track_failing_mid_way_is_retried_from_its_position(
    make_rig: RigFactory,
) -> None:
    rig = await make_rig(_retry_settings())
    delays = _record_backoff(rig)
    track = _tracks()[0]
    await rig.emulator.control.track_exception(
        after_ms=30_500, guild_id=GUILD, kind="network_error", times=1
    )
    await _play(rig, track)
    await rig.discord.count(TrackStart, 1, GUILD)
    await _step_to(rig, 30_000)
    await rig.emulator.control.advance(1_000)  # fails at 31 s
    await rig.discord.count(TrackException, 1, GUILD)
    await _until(lambda: _playing(rig, track), "the retried track plays")
    position = await rig.emulator.control.position(GUILD)
    assert position is not None
    assert 29_000 <= position <= 32_000, position
    assert delays == [0.05]
    assert await _reasons(rig, GUILD) == [None]


async def test_retries_used_up_then_the_track_is_skipped(make_rig: RigFactory) -> None:
    rig = await make_rig(_retry_settings(play_retry_attempts=2))
    delays = _record_backoff(rig)
    track, other = _tracks()[0], _tracks()[1]
    await rig.emulator.control.fail_load(str(track.youtube_id), kind="network_error", stage="play")
    await _play(rig, track)
    await _play(rig, other)
    notice = await rig.ui.wait(UiError, lambda m: m.guild_id == GUILD)
    assert notice.payload.code == "network"
    assert notice.payload.skipped
    assert notice.payload.message == "A network problem interrupted this track."
    await _until(lambda: _playing(rig, other), "the next track plays")
    await rig.discord.count(TrackStart, 2, GUILD)  # its row is open
    assert delays == [0.05, 0.1]
    retryable = [m.payload.retryable for m in rig.discord.of(TrackException, GUILD)]
    assert retryable == [True, True, False]
    assert await _reasons(rig, GUILD) == ["error", None]
    assert len(rig.ui.of(UiError, GUILD)) == 1


async def test_a_stuck_track_is_retried_once_from_its_position_then_skipped(
    make_rig: RigFactory,
) -> None:
    rig = await make_rig(_retry_settings())
    track, other = _tracks()[0], _tracks()[1]
    await rig.emulator.control.track_stuck(after_ms=20_500, guild_id=GUILD, times=2)
    await _play(rig, track)
    await _play(rig, other)
    await rig.discord.count(TrackStart, 1, GUILD)
    await _step_to(rig, 20_000)
    await rig.emulator.control.advance(1_000)  # stuck at 21 s: played again from there
    await _until(lambda: _position_at_least(rig, 19_000, track), "the stuck track is played again")
    assert rig.ui.of(UiError, GUILD) == []
    assert await _reasons(rig, GUILD) == [None], "the same row goes on"

    await rig.emulator.control.advance(1_000)  # stuck again: skipped
    notice = await rig.ui.wait(UiError, lambda m: m.guild_id == GUILD)
    assert notice.payload.code == "track_stuck"
    assert notice.payload.message == STUCK.user_message
    assert notice.payload.skipped
    await _until(lambda: _playing(rig, other), "the next track plays")
    await rig.discord.count(TrackStart, 2, GUILD)  # its row is open
    assert await _reasons(rig, GUILD) == ["error", None]


async def _position_at_least(rig: AudioRig, ms: int, track: CatalogTrack) -> bool:
    position = await rig.emulator.control.position(GUILD)
    return await _playing(rig, track) and position is not None and position >= ms


async def test_failures_in_a_row_stop_at_the_limit_with_one_message(
    make_rig: RigFactory,
) -> None:
    rig = await make_rig(_retry_settings(play_failure_streak_limit=3))
    good, *failing = _tracks()[:5]
    for track in failing:
        await rig.emulator.control.fail_load(str(track.youtube_id), kind="private", stage="play")
    for track in (good, *failing):
        await _play(rig, track)
    start = await rig.discord.wait(TrackStart, lambda m: m.guild_id == GUILD)
    await rig.emulator.control.advance(start.payload.track.length_ms + 1_000)  # then 4 fail
    await rig.discord.wait(QueueEnd, lambda m: m.guild_id == GUILD)
    await _settled(rig)
    await asyncio.sleep(0.3)  # nothing more comes
    notices = rig.ui.of(UiError, GUILD)
    assert [(n.payload.code, n.payload.skipped) for n in notices] == [
        ("private", True),
        ("private", True),
        ("failure_streak", False),
    ]
    assert notices[-1].payload.message == "Stopped: 3 tracks in a row could not be played."
    assert await _reasons(rig, GUILD) == ["finished", "error", "error", "error"]
    assert len(rig.discord.of(TrackStart, GUILD)) == 4, "the last one was not tried"
    player = await rig.node_player(GUILD)
    assert player is not None
    assert player["track"] is None

    # the user plays on: a new streak (the next failure is announced again)
    await _play(rig, _tracks()[6])
    await rig.ui.count(UiError, 4, GUILD)
    assert rig.ui.of(UiError, GUILD)[3].payload.code == "private"


async def test_a_skip_with_nothing_left_takes_the_queue_end_path(make_rig: RigFactory) -> None:
    rig = await make_rig(_retry_settings())
    track = _tracks()[0]
    await rig.emulator.control.fail_load(str(track.youtube_id), kind="age_restricted", stage="play")
    await _play(rig, track)
    notice = await rig.ui.wait(UiError, lambda m: m.guild_id == GUILD)
    assert notice.payload.code == "age_restricted"
    assert notice.payload.skipped
    await rig.discord.wait(QueueEnd, lambda m: m.guild_id == GUILD)
    await rig.ui.wait(UiUpdate, lambda m: m.guild_id == GUILD and m.payload.state.track is None)
    assert await _reasons(rig, GUILD) == ["error"]
