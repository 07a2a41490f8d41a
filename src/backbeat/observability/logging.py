"""Structured logging with structlog: JSON or console, context ids bound, secrets never rendered.

Bind ``guild_id`` and ``request_id`` with :func:`bind_context` (or the :func:`log_context`
context manager) and every line logged in that task carries them. Secrets are removed twice:
values of keys that name a secret (token, password, authorization…) are masked, and every
configured secret value is scrubbed from any string, wherever it appears.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable, Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

MASK = "********"
_SECRET_KEY = re.compile(r"token|password|passwd|secret|authorization|api_key|cookie", re.I)
_secret_values: list[str] = []


def register_secrets(values: Iterable[str]) -> None:
    """Remember secret values (longest first) so that no log line ever shows them."""
    merged = {value for value in (*_secret_values, *values) if len(value) >= 4}
    _secret_values[:] = sorted(merged, key=len, reverse=True)


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        for secret in _secret_values:
            if secret in value:
                value = value.replace(secret, MASK)
        return value
    if isinstance(value, MutableMapping):
        return {key: _redact_item(str(key), item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_scrub(item) for item in value)
    return value


def _redact_item(key: str, value: Any) -> Any:
    if _SECRET_KEY.search(key) and value not in (None, ""):
        return MASK
    return _scrub(value)


def redact_secrets(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """structlog processor: mask secret-named keys and scrub known secret values."""
    return {key: _redact_item(key, value) for key, value in event_dict.items()}


class _StderrHandler(logging.Handler):
    """Writes to whatever ``sys.stderr`` is at emit time (it may be replaced after set-up)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
        except Exception:
            self.handleError(record)


def configure_logging(
    *, level: str = "INFO", fmt: str = "console", secrets: Iterable[str] = ()
) -> None:
    """Set up structlog and route the standard library's loggers (discord, lavalink…) through it."""
    register_secrets(secrets)
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
        # Tracebacks become text before redaction, so secrets in them are scrubbed too.
        structlog.processors.format_exc_info,
        redact_secrets,
    ]
    renderer: Processor = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(
            colors=sys.stderr.isatty(), exception_formatter=structlog.dev.plain_traceback
        )
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    handler = _StderrHandler()
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    """A logger for one module; use ``__name__``."""
    logger: structlog.stdlib.BoundLogger = structlog.stdlib.get_logger(name)
    return logger


def bind_context(
    *, guild_id: int | None = None, request_id: str | None = None, **extra: Any
) -> None:
    """Bind ids to the current task's log context (only the ones given)."""
    values = {"guild_id": guild_id, "request_id": request_id, **extra}
    structlog.contextvars.bind_contextvars(**{k: v for k, v in values.items() if v is not None})


@contextmanager
def log_context(
    *, guild_id: int | None = None, request_id: str | None = None, **extra: Any
) -> Iterator[None]:
    """Bind ids for the duration of a block (one command, one request), then restore."""
    values = {"guild_id": guild_id, "request_id": request_id, **extra}
    with structlog.contextvars.bound_contextvars(
        **{k: v for k, v in values.items() if v is not None}
    ):
        yield
