"""Why a track failed, and what to do about it: one classification table, pure.

Lavalink reports a failed load (``loadType: error``) and a failed playback
(TrackExceptionEvent) as an Exception object ``{message, severity, cause}``: ``message`` is
what lavaplayer or the source told the user, ``cause`` the root cause's ``toString()``
(``java.net.SocketTimeoutException: Connect timed out``). :func:`classify` reads both, in
the order of :data:`RULES` (first match wins), into a :class:`Classification`: its class,
whether the same track may be tried again (``retryable``), how serious it is for an operator
(``severity``) and the sentence a user sees.

:class:`RetryPolicy` gives the delays of a retried track (exponential, capped);
:class:`FailureStreak` stops a run of failures after a limit with one message;
:func:`plan_failure` combines the three into the next step (retry, skip, stop), and
:class:`FailureTracker` keeps one guild's attempts and streak between player events.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Final


class FailureClass(StrEnum):
    """Kinds of playback failure."""

    UNAVAILABLE = "unavailable"
    PRIVATE = "private"
    REGION_BLOCKED = "region_blocked"
    AGE_RESTRICTED = "age_restricted"
    SIGN_IN = "sign_in"
    """The source wants a signed-in user, or a proof of not being a bot."""
    NETWORK = "network"
    RATE_LIMITED = "rate_limited"
    DECODING = "decoding"
    UNKNOWN = "unknown"


class ErrorSeverity(StrEnum):
    """How much an operator should care: ``info`` is the content's fault (expected),
    ``warning`` the deployment's standing with a source, ``error`` something broken."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class Classification:
    """What a failure is and what to do: retry the same track, or skip it."""

    failure_class: FailureClass
    retryable: bool
    severity: ErrorSeverity
    user_message: str
    """A sentence a user understands (the notice adds whether the track was skipped)."""


@dataclass(frozen=True, slots=True)
class Rule:
    """One row of the table: a pattern over ``message`` and ``cause`` and its outcome."""

    pattern: re.Pattern[str]
    outcome: Classification


def _rule(
    pattern: str,
    failure_class: FailureClass,
    retryable: bool,
    severity: ErrorSeverity,
    user_message: str,
) -> Rule:
    outcome = Classification(failure_class, retryable, severity, user_message)
    return Rule(re.compile(pattern, re.IGNORECASE), outcome)


_C = FailureClass
_S = ErrorSeverity

RULES: Final[tuple[Rule, ...]] = (
    _rule(
        r"confirm your age|age[- ]restricted|inappropriate for some users",
        _C.AGE_RESTRICTED,
        False,
        _S.INFO,
        "This track is age-restricted and cannot be played.",
    ),
    _rule(
        r"not a bot|sign in|log ?in required|please log in|login required",
        _C.SIGN_IN,
        False,
        _S.WARNING,
        "The source asked the bot to sign in, so this track cannot be played right now.",
    ),
    _rule(
        r"\bprivate\b",
        _C.PRIVATE,
        False,
        _S.INFO,
        "This track is private.",
    ),
    _rule(
        r"in your country|in your region|region[- ]?(?:locked|blocked|restricted)|geo[- ]?block",
        _C.REGION_BLOCKED,
        False,
        _S.INFO,
        "This track is not available in the bot's region.",
    ),
    _rule(
        r"\b429\b|too many requests|rate[- ]?limit|ip address has been blocked",
        _C.RATE_LIMITED,
        True,
        _S.WARNING,
        "The source is limiting requests; trying again shortly.",
    ),
    _rule(
        r"unavailable|no longer available|not available|has been removed|removed by|"
        r"does not exist|terminated|copyright|video not found|track not found",
        _C.UNAVAILABLE,
        False,
        _S.INFO,
        "This track is unavailable.",
    ),
    _rule(
        r"java\.net\.|javax\.net\.ssl|sockettimeout|timed out|timeout|connection reset|"
        r"connection refused|unknownhost|no route to host|broken pipe|network",
        _C.NETWORK,
        True,
        _S.ERROR,
        "A network problem interrupted this track; trying again.",
    ),
    _rule(
        r"unknown file format|unsupported (?:file|format|codec)|not a valid|no decoder",
        _C.DECODING,
        False,
        _S.ERROR,
        "This track's format cannot be played.",
    ),
    _rule(
        r"end of stream|something broke when playing|decod|corrupt|illegalstateexception",
        _C.DECODING,
        True,
        _S.ERROR,
        "Something broke while playing this track; trying again.",
    ),
)
"""The table, in match order: specific words before general ones (``confirm your age``
before ``sign in``; ``in your country`` before ``not available``)."""

UNKNOWN: Final = Classification(
    FailureClass.UNKNOWN, False, ErrorSeverity.ERROR, "This track could not be played."
)
_LAVALINK_SEVERITY: Final = {
    "common": ErrorSeverity.INFO,
    "suspicious": ErrorSeverity.WARNING,
    "fault": ErrorSeverity.ERROR,
}


def classify(
    message: str | None, cause: str | None = None, severity: str | None = None
) -> Classification:
    """The class of a failure from Lavalink's ``message`` and ``cause`` (either may be
    missing); an unmatched failure is :data:`UNKNOWN` with Lavalink's ``severity``."""
    text = " ".join(part for part in (message, cause) if part).replace("\u2019", "'")
    for rule in RULES:
        if rule.pattern.search(text):
            return rule.outcome
    mapped = _LAVALINK_SEVERITY.get(severity or "")
    if mapped is None or mapped is UNKNOWN.severity:
        return UNKNOWN
    return Classification(UNKNOWN.failure_class, False, mapped, UNKNOWN.user_message)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff: attempt ``n`` (0-based) waits ``min(cap_s, base_s * 2**n)``."""

    base_s: float = 1.0
    cap_s: float = 30.0
    attempts: int = 3

    def __post_init__(self) -> None:
        if self.base_s < 0 or self.cap_s < self.base_s or self.attempts < 0:
            raise ValueError("need 0 <= base_s <= cap_s and attempts >= 0")

    def delay(self, attempt: int) -> float | None:
        """Seconds to wait before retry ``attempt`` (0-based), None when they are used up."""
        if not 0 <= attempt < self.attempts:
            return None
        return min(self.cap_s, self.base_s * 2.0**attempt)

    def delays(self) -> tuple[float, ...]:
        """Every delay in order."""
        return tuple(min(self.cap_s, self.base_s * 2.0**n) for n in range(self.attempts))


STUCK_RETRY: Final = RetryPolicy(base_s=0.0, cap_s=0.0, attempts=1)
"""A TrackStuck is retried once, from its position, at once; then the track is skipped."""


class StreakAction(StrEnum):
    """What to do after a skipped failure."""

    SKIP = "skip"
    """Skip to the next track and tell the user this one was skipped."""
    STOP = "stop"
    """Too many in a row: stop playing, with one message saying so."""
    SILENT = "silent"
    """Already stopped for this streak: nothing more to say."""


@dataclass(frozen=True, slots=True)
class FailureStreak:
    """Consecutive tracks that failed (a track that starts playing resets it).

    The ``limit``-th failure in a row stops playback with one message; later failures of
    the same streak (none, once stopped) would be silent, so a broken source never floods
    the channel.
    """

    limit: int
    count: int = 0

    def __post_init__(self) -> None:
        if self.limit < 1 or self.count < 0:
            raise ValueError("limit must be >= 1 and count >= 0")

    def failed(self) -> tuple[FailureStreak, StreakAction]:
        """The streak after one more failure, and what to do."""
        after = FailureStreak(self.limit, self.count + 1)
        if after.count < self.limit:
            return after, StreakAction.SKIP
        if after.count == self.limit:
            return after, StreakAction.STOP
        return after, StreakAction.SILENT

    def succeeded(self) -> FailureStreak:
        """A track started: the streak is over."""
        return FailureStreak(self.limit)

    def stop_message(self) -> str:
        """The one message shown when the streak stops playback."""
        return f"Stopped: {self.limit} tracks in a row could not be played."


STUCK: Final = Classification(
    FailureClass.NETWORK,
    True,
    ErrorSeverity.WARNING,
    "This track stopped sending audio.",
)
"""A TrackStuck event: retried per :data:`STUCK_RETRY`, then skipped."""


class FailureAction(StrEnum):
    """The next step after a failed track."""

    RETRY = "retry"
    """Play the same track again from its position after ``delay_s``."""
    SKIP = "skip"
    """Record ``skip_reason=error``, show the notice (``skipped=true``), play the next track
    (queue empty: the queue-end path)."""
    STOP = "stop"
    """Record ``skip_reason=error``, show the one streak message, stop playing."""
    SILENT_SKIP = "silent_skip"
    """As ``skip`` without a notice (the streak's message was shown already)."""


@dataclass(frozen=True, slots=True)
class FailurePlan:
    """What to do after one failure, and the streak to keep for the next one."""

    action: FailureAction
    streak: FailureStreak
    delay_s: float = 0.0
    notice: str | None = None


def plan_failure(
    classification: Classification,
    *,
    attempt: int,
    retry: RetryPolicy,
    streak: FailureStreak,
) -> FailurePlan:
    """The next step for a track that failed ``attempt`` times before (0 the first time).

    A retryable failure is retried while ``retry`` has delays left (the streak does not
    move: the track has not been given up); otherwise the track is skipped and the streak
    grows, and the streak's limit turns the skip into one stop message.
    """
    if classification.retryable:
        delay = retry.delay(attempt)
        if delay is not None:
            return FailurePlan(FailureAction.RETRY, streak, delay_s=delay)
    after, action = streak.failed()
    if action is StreakAction.SKIP:
        return FailurePlan(FailureAction.SKIP, after, notice=_skipped(classification))
    if action is StreakAction.STOP:
        return FailurePlan(FailureAction.STOP, after, notice=after.stop_message())
    return FailurePlan(FailureAction.SILENT_SKIP, after)


def _skipped(classification: Classification) -> str:
    """The notice of a skipped track: its message, without a promise to try again."""
    message = classification.user_message
    for retrying in ("; trying again shortly.", "; trying again."):
        if message.endswith(retrying):
            message = message.removesuffix(retrying) + "."
    return f"{message} Skipped."


class FailureTracker:
    """One guild's failure bookkeeping between events: the attempts of the item now playing
    (playback failures and TrackStuck counted apart) and the streak of skipped items.

    Call :meth:`failed` on a TrackException (or a failed load of the current item),
    :meth:`stuck` on a TrackStuck, and :meth:`finished` when an item plays to its end or a
    user moves the queue on (a retried item that starts again is still the same attempt
    series).
    """

    def __init__(self, *, streak_limit: int, retry: RetryPolicy) -> None:
        self.retry = retry
        self.streak = FailureStreak(streak_limit)
        self._item: int | None = None
        self._attempts = 0
        self._stuck = 0

    def _on(self, item_id: int) -> None:
        if item_id != self._item:
            self._item, self._attempts, self._stuck = item_id, 0, 0

    def failed(self, item_id: int, classification: Classification) -> FailurePlan:
        """The plan after the item ``item_id`` failed with ``classification``."""
        self._on(item_id)
        plan = plan_failure(
            classification, attempt=self._attempts, retry=self.retry, streak=self.streak
        )
        return self._keep(plan)

    def stuck(self, item_id: int) -> FailurePlan:
        """The plan after the item ``item_id`` got stuck: one retry, then a skip."""
        self._on(item_id)
        plan = plan_failure(STUCK, attempt=self._stuck, retry=STUCK_RETRY, streak=self.streak)
        if plan.action is FailureAction.RETRY:
            self._stuck += 1
            return plan
        return self._keep(plan)

    def finished(self) -> None:
        """An item played to its end (or a user skipped on): the streak is over."""
        self.streak = self.streak.succeeded()
        self._item, self._attempts, self._stuck = None, 0, 0

    def _keep(self, plan: FailurePlan) -> FailurePlan:
        self.streak = plan.streak
        if plan.action is FailureAction.RETRY:
            self._attempts += 1
        else:
            self._item, self._attempts, self._stuck = None, 0, 0
        return plan
