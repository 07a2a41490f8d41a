"""The classification table against every failure the Lavalink emulator reports, common
wordings of real sources, backoff delays and the consecutive-failure streak."""

from __future__ import annotations

import pytest

from backbeat.domain.playback_errors import (
    RULES,
    STUCK,
    STUCK_RETRY,
    UNKNOWN,
    ErrorSeverity,
    FailureAction,
    FailureClass,
    FailureStreak,
    FailureTracker,
    RetryPolicy,
    StreakAction,
    classify,
    plan_failure,
)
from backbeat.testing.lavalink.failures import FAILURES

C = FailureClass

#: Every kind of the emulator's failure table: its class and whether it is retried.
EXPECTED = {
    "unavailable": (C.UNAVAILABLE, False),
    "region_blocked": (C.REGION_BLOCKED, False),
    "age_restricted": (C.AGE_RESTRICTED, False),
    "bot_check": (C.SIGN_IN, False),
    "sign_in": (C.SIGN_IN, False),
    "private": (C.PRIVATE, False),
    "network_error": (C.NETWORK, True),
    "rate_limited": (C.RATE_LIMITED, True),
    "decoding": (C.DECODING, True),
    "unknown_format": (C.DECODING, False),
}


def test_every_kind_of_the_emulator_is_expected_here() -> None:
    assert set(EXPECTED) == set(FAILURES)


@pytest.mark.parametrize("kind", sorted(FAILURES))
def test_each_emulator_failure_classifies_from_its_exception_object(kind: str) -> None:
    exception = FAILURES[kind].to_json()
    result = classify(
        str(exception["message"]), str(exception["cause"]), str(exception["severity"])
    )
    assert (result.failure_class, result.retryable) == EXPECTED[kind]
    assert result.user_message.endswith(".")


@pytest.mark.parametrize("kind", sorted(FAILURES))
def test_each_emulator_failure_classifies_from_its_message_alone(kind: str) -> None:
    """A ``loadType: error`` result carries the message; the class must not need the cause,
    except for network errors whose message is generic."""
    failure = FAILURES[kind]
    result = classify(failure.message, None, failure.severity)
    if kind == "network_error":
        assert result.failure_class is C.UNKNOWN
    else:
        assert result.failure_class is EXPECTED[kind][0]


@pytest.mark.parametrize(
    ("message", "cause", "expected"),
    [
        ("Video unavailable", None, C.UNAVAILABLE),
        ("This video has been removed by the uploader", None, C.UNAVAILABLE),
        (
            "This video is no longer available because the account was terminated",
            None,
            C.UNAVAILABLE,
        ),
        ("Private video", None, C.PRIVATE),
        ("The uploader has not made this video available in your country", None, C.REGION_BLOCKED),
        ("Sign in to confirm your age", None, C.AGE_RESTRICTED),
        ("This video is age-restricted", None, C.AGE_RESTRICTED),
        ("Sign in to confirm you're not a bot", None, C.SIGN_IN),
        ("Login required", None, C.SIGN_IN),
        ("Too Many Requests", None, C.RATE_LIMITED),
        ("Something went wrong", "java.net.UnknownHostException: www.youtube.com", C.NETWORK),
        ("Something went wrong", "javax.net.ssl.SSLHandshakeException: handshake", C.NETWORK),
        ("Something went wrong", "java.net.SocketException: Connection reset", C.NETWORK),
        ("Unsupported file format", None, C.DECODING),
        ("Failed to decode frame", None, C.DECODING),
        ("Something unexpected", "java.lang.NullPointerException", C.UNKNOWN),
        (None, None, C.UNKNOWN),
        ("", "", C.UNKNOWN),
    ],
)
def test_real_world_wordings(message: str | None, cause: str | None, expected: C) -> None:
    assert classify(message, cause).failure_class is expected


def test_unknown_takes_lavalinks_severity() -> None:
    assert classify("odd", None, "common").severity is ErrorSeverity.INFO
    assert classify("odd", None, "suspicious").severity is ErrorSeverity.WARNING
    assert classify("odd", None, "fault") is UNKNOWN
    assert classify("odd", None, None) is UNKNOWN
    assert not classify("odd", None, "common").retryable


def test_every_class_but_unknown_has_a_row_and_every_row_a_message() -> None:
    assert {rule.outcome.failure_class for rule in RULES} == set(FailureClass) - {C.UNKNOWN}
    assert all(rule.outcome.user_message for rule in RULES)
    retryable = {rule.outcome.failure_class for rule in RULES if rule.outcome.retryable}
    assert retryable == {C.NETWORK, C.RATE_LIMITED, C.DECODING}


def test_backoff_doubles_up_to_the_cap_and_runs_out() -> None:
    policy = RetryPolicy(base_s=0.5, cap_s=3.0, attempts=5)
    assert policy.delays() == (0.5, 1.0, 2.0, 3.0, 3.0)
    assert [policy.delay(n) for n in range(6)] == [0.5, 1.0, 2.0, 3.0, 3.0, None]
    assert policy.delay(-1) is None
    assert RetryPolicy(attempts=0).delays() == ()
    assert RetryPolicy().delays() == (1.0, 2.0, 4.0)
    assert STUCK_RETRY.delays() == (0.0,)


@pytest.mark.parametrize(
    "arguments", [{"base_s": -1.0}, {"base_s": 5.0, "cap_s": 1.0}, {"attempts": -1}]
)
def test_backoff_rejects_nonsense(arguments: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="base_s"):
        RetryPolicy(**arguments)  # type: ignore[arg-type]


def test_a_failure_streak_skips_then_stops_once_then_stays_silent() -> None:
    streak = FailureStreak(limit=3)
    actions = []
    for _ in range(5):
        streak, action = streak.failed()
        actions.append(action)
    assert actions == [
        StreakAction.SKIP,
        StreakAction.SKIP,
        StreakAction.STOP,
        StreakAction.SILENT,
        StreakAction.SILENT,
    ]
    assert streak.count == 5
    assert streak.stop_message() == "Stopped: 3 tracks in a row could not be played."


def test_a_track_that_plays_ends_the_streak() -> None:
    streak, _ = FailureStreak(limit=2).failed()
    streak = streak.succeeded()
    assert streak.count == 0
    assert streak.failed()[1] is StreakAction.SKIP
    assert FailureStreak(limit=1).failed()[1] is StreakAction.STOP
    with pytest.raises(ValueError, match="limit"):
        FailureStreak(limit=0)


def _path(kind: str, retry: RetryPolicy, limit: int = 10) -> list[tuple[FailureAction, float]]:
    """The steps a track failing with ``kind`` every time goes through until it is dropped."""
    failure = FAILURES[kind].to_json()
    classified = classify(str(failure["message"]), str(failure["cause"]), str(failure["severity"]))
    streak = FailureStreak(limit=limit)
    steps: list[tuple[FailureAction, float]] = []
    for attempt in range(20):
        plan = plan_failure(classified, attempt=attempt, retry=retry, streak=streak)
        streak = plan.streak
        steps.append((plan.action, plan.delay_s))
        if plan.action is not FailureAction.RETRY:
            return steps
    raise AssertionError("never gave up")


@pytest.mark.parametrize("kind", sorted(FAILURES))
def test_each_emulator_failure_takes_its_class_path(kind: str) -> None:
    retry = RetryPolicy(base_s=1.0, cap_s=3.0, attempts=3)
    steps = _path(kind, retry)
    if EXPECTED[kind][1]:
        assert steps == [
            (FailureAction.RETRY, 1.0),
            (FailureAction.RETRY, 2.0),
            (FailureAction.RETRY, 3.0),
            (FailureAction.SKIP, 0.0),
        ]
    else:
        assert steps == [(FailureAction.SKIP, 0.0)]


def test_a_retried_track_that_then_plays_leaves_no_streak() -> None:
    network = classify("x", "java.net.SocketTimeoutException: Connect timed out")
    streak = FailureStreak(limit=2)
    plan = plan_failure(network, attempt=0, retry=RetryPolicy(), streak=streak)
    assert plan.action is FailureAction.RETRY
    assert plan.streak == streak
    assert plan.notice is None
    assert plan.streak.succeeded().count == 0


def test_skip_notices_are_sentences_without_a_promise_to_retry() -> None:
    rate = classify("Too Many Requests")
    plan = plan_failure(rate, attempt=5, retry=RetryPolicy(), streak=FailureStreak(limit=5))
    assert plan.action is FailureAction.SKIP
    assert plan.notice == "The source is limiting requests. Skipped."
    gone = plan_failure(
        classify("Video unavailable"), attempt=0, retry=RetryPolicy(), streak=FailureStreak(5)
    )
    assert gone.notice == "This track is unavailable. Skipped."


def test_a_streak_of_failures_ends_in_one_stop_message() -> None:
    gone = classify("Video unavailable")
    streak = FailureStreak(limit=3)
    plans = []
    for _ in range(4):
        plan = plan_failure(gone, attempt=0, retry=RetryPolicy(), streak=streak)
        streak = plan.streak
        plans.append(plan)
    assert [plan.action for plan in plans] == [
        FailureAction.SKIP,
        FailureAction.SKIP,
        FailureAction.STOP,
        FailureAction.SILENT_SKIP,
    ]
    assert plans[2].notice == "Stopped: 3 tracks in a row could not be played."
    assert plans[3].notice is None


def test_a_stuck_track_is_retried_once_at_once_then_skipped() -> None:
    streak = FailureStreak(limit=5)
    first = plan_failure(STUCK, attempt=0, retry=STUCK_RETRY, streak=streak)
    assert (first.action, first.delay_s) == (FailureAction.RETRY, 0.0)
    second = plan_failure(STUCK, attempt=1, retry=STUCK_RETRY, streak=first.streak)
    assert second.action is FailureAction.SKIP
    assert second.notice == "This track stopped sending audio. Skipped."


def test_the_tracker_counts_attempts_per_item_and_the_streak_across_items() -> None:
    network = classify("x", "java.net.SocketException: Connection reset")
    gone = classify("This video is unavailable")
    tracker = FailureTracker(streak_limit=2, retry=RetryPolicy(base_s=1, cap_s=2, attempts=2))
    assert [tracker.failed(1, network).delay_s for _ in range(2)] == [1.0, 2.0]
    skipped = tracker.failed(1, network)
    assert skipped.action is FailureAction.SKIP
    assert tracker.streak.count == 1
    # The next item starts its own attempts; its skip reaches the streak limit.
    assert tracker.failed(2, network).action is FailureAction.RETRY
    stop = tracker.failed(2, gone)
    assert stop.action is FailureAction.STOP
    assert stop.notice == "Stopped: 2 tracks in a row could not be played."
    tracker.finished()
    assert tracker.streak.count == 0
    assert tracker.failed(3, gone).action is FailureAction.SKIP


def test_the_tracker_retries_a_stuck_item_once() -> None:
    tracker = FailureTracker(streak_limit=5, retry=RetryPolicy())
    assert tracker.stuck(7).action is FailureAction.RETRY
    assert tracker.stuck(7).action is FailureAction.SKIP
    assert tracker.streak.count == 1
    assert tracker.stuck(8).action is FailureAction.RETRY
    # A playback failure of the same item has its own attempts.
    network = classify("x", "java.net.SocketTimeoutException: Read timed out")
    assert tracker.failed(8, network).action is FailureAction.RETRY
