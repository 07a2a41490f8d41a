"""Timing and error accounting of every Discord call the gateway makes.

``operation`` names are a fixed vocabulary (``interaction.ack``, ``message.edit``…), the
seed's ``discord_operation_duration_seconds`` and ``discord_api_errors_total`` label them.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import discord

from backbeat.observability.metrics import (
    discord_api_errors_total,
    discord_operation_duration_seconds,
    discord_operation_retries_total,
)

ACK = "interaction.ack"
EDIT_ORIGINAL = "interaction.edit_original"
FOLLOWUP = "interaction.followup"
MESSAGE_SEND = "message.send"
MESSAGE_EDIT = "message.edit"
MESSAGE_DELETE = "message.delete"
VOICE_STATE = "gateway.voice_state"
GATEWAY_CONNECT = "gateway.connect"
COMMAND_SYNC = "commands.sync"


def error_code(error: discord.HTTPException) -> str:
    """Discord's JSON error code when it gave one, else the HTTP status."""
    return str(error.code or error.status)


@asynccontextmanager
async def discord_operation(operation: str) -> AsyncIterator[None]:
    """Time the block; count a Discord HTTP error under its code (and re-raise it)."""
    started = time.perf_counter()
    try:
        yield
    except discord.HTTPException as error:
        discord_api_errors_total.labels(operation, error_code(error)).inc()
        raise
    finally:
        discord_operation_duration_seconds.labels(operation).observe(time.perf_counter() - started)


def count_retry(operation: str) -> None:
    discord_operation_retries_total.labels(operation).inc()
