"""Structured logs: JSON lines with bound guild and request ids, secrets never rendered."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from backbeat.observability.logging import (
    bind_context,
    configure_logging,
    get_logger,
    log_context,
)


@pytest.fixture
def json_logs(capsys: pytest.CaptureFixture[str]) -> Iterator[pytest.CaptureFixture[str]]:
    configure_logging(level="DEBUG", fmt="json", secrets=["s3cr3t-token-value"])
    yield capsys
    logging.getLogger().handlers.clear()


def lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    err = capsys.readouterr().err
    return [json.loads(line) for line in err.splitlines() if line]


def test_context_ids_are_on_every_line_of_the_block(json_logs: pytest.CaptureFixture[str]) -> None:
    log = get_logger("test")
    with log_context(guild_id=42, request_id="req-1"):
        log.info("queued", tracks=3)
    log.info("outside")
    inside, outside = lines(json_logs)
    assert inside["guild_id"] == 42
    assert inside["request_id"] == "req-1"
    assert inside["event"] == "queued"
    assert inside["level"] == "info"
    assert "guild_id" not in outside


def test_secret_keys_and_values_are_masked(json_logs: pytest.CaptureFixture[str]) -> None:
    log = get_logger("test")
    log.warning(
        "login",
        token="abc123456",
        headers={"Authorization": "youshallnotpass", "Accept": "json"},
        detail="sent s3cr3t-token-value to the gateway",
    )
    (line,) = lines(json_logs)
    rendered = json.dumps(line)
    assert "abc123456" not in rendered
    assert "youshallnotpass" not in rendered
    assert "s3cr3t-token-value" not in rendered
    assert line["headers"] == {"Authorization": "********", "Accept": "json"}


def test_standard_library_loggers_go_through_the_same_pipeline(
    json_logs: pytest.CaptureFixture[str],
) -> None:
    bind_context(guild_id=7)
    try:
        logging.getLogger("discord.http").info("token s3cr3t-token-value refreshed")
    finally:
        import structlog

        structlog.contextvars.clear_contextvars()
    (line,) = lines(json_logs)
    assert line["logger"] == "discord.http"
    assert line["guild_id"] == 7
    assert "s3cr3t-token-value" not in str(line["event"])


def test_level_filters(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(level="WARNING", fmt="json")
    try:
        get_logger("test").info("hidden")
        get_logger("test").error("shown")
        assert [line["event"] for line in lines(capsys)] == ["shown"]
    finally:
        logging.getLogger().handlers.clear()


def test_secrets_in_tracebacks_are_scrubbed(json_logs: pytest.CaptureFixture[str]) -> None:
    try:
        raise ConnectionError("redis://:s3cr3t-token-value@10.0.0.1 refused")
    except ConnectionError:
        get_logger("test").exception("bus down")
    (line,) = lines(json_logs)
    assert "ConnectionError" in str(line["exception"])
    assert "s3cr3t-token-value" not in json.dumps(line)


def test_console_format_renders_exceptions_without_warnings(
    capsys: pytest.CaptureFixture[str], recwarn: pytest.WarningsRecorder
) -> None:
    configure_logging(level="INFO", fmt="console", secrets=["s3cr3t-token-value"])
    try:
        try:
            raise ValueError("token s3cr3t-token-value")
        except ValueError:
            get_logger("test").exception("failed")
        err = capsys.readouterr().err
        assert "ValueError" in err
        assert "s3cr3t-token-value" not in err
        assert not [w for w in recwarn if "pretty exceptions" in str(w.message)]
    finally:
        logging.getLogger().handlers.clear()
