"""Backbeat's error tree.

BackbeatError
├── ConfigurationError          a setting has a value Backbeat cannot use (CLI exit code 2)
├── BackendUnavailableError     a server Backbeat depends on (database, Redis, Lavalink) is down
├── StaleFencingTokenError      a lease holder's fencing token is older than its partition's
├── MessageAlreadyAppliedError  a bus message id was already recorded as applied
├── UnsafeUrlError              a URL a user gave is refused by the URL-safety guard (SSRF rules)
└── RateLimitedError            a user (or guild) used a rate-limited action too often
"""

from __future__ import annotations


class BackbeatError(Exception):
    """Base class of every error Backbeat raises on purpose."""


class ConfigurationError(BackbeatError):
    """A setting is invalid; ``variable`` names it as the user writes it (``BACKBEAT_…``)."""

    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(f"{variable}: {problem}")
        self.variable = variable
        self.problem = problem


class BackendUnavailableError(BackbeatError):
    """A backing server could not be reached; ``backend`` names which."""

    def __init__(self, backend: str, detail: str) -> None:
        super().__init__(f"{backend} unavailable: {detail}")
        self.backend = backend
        self.detail = detail


class StaleFencingTokenError(BackbeatError):
    """A transaction carried a fencing token older than the one stored for its partition:
    its lease was lost (another worker acquired the partition since), so it must not commit.
    """

    def __init__(self, pool: str, partition: int, token: int, current: int) -> None:
        super().__init__(
            f"fencing token {token} of {pool} partition {partition} is stale (current {current})"
        )
        self.pool = pool
        self.partition = partition
        self.token = token
        self.current = current


class MessageAlreadyAppliedError(BackbeatError):
    """Recording a message as applied found it recorded already: its effect is committed
    (by an earlier delivery), so this transaction must be rolled back, not committed."""

    def __init__(self, message_id: str) -> None:
        super().__init__(f"message {message_id} was already applied")
        self.message_id = message_id


class UnsafeUrlError(BackbeatError):
    """A URL was refused before anything fetched it; ``reason`` is a stable code (``scheme``,
    ``too_long``, ``userinfo``, ``malformed``, ``numeric_host``, ``blocked_address``,
    ``unresolvable``, ``resolve_timeout``) and ``message`` the sentence shown to the user."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


class RateLimitedError(BackbeatError):
    """A use over a rate-limit bucket's policy; ``retry_after_s`` says when it may be retried
    and ``message`` is the sentence shown to the user."""

    def __init__(self, bucket: str, retry_after_s: float, message: str) -> None:
        super().__init__(message)
        self.bucket = bucket
        self.retry_after_s = retry_after_s
        self.message = message
