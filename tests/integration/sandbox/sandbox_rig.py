"""The sandbox in this test's event loop: ``running_sandbox()`` yields its ready line.

Shared by the sandbox integration tests and the browser tests (``tests/browser`` puts this
folder on ``sys.path``). The environment's ``BACKBEAT_*`` settings are cleared first, so the
sandbox runs on its own defaults whatever the machine has set.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import pytest

from backbeat.config import load_settings
from backbeat.sandbox.runner import run_sandbox

T = TypeVar("T")
READY_S = 120.0
STOP_S = 30.0
EPHEMERAL = 64


@contextlib.asynccontextmanager
async def running_sandbox(
    monkeypatch: pytest.MonkeyPatch, data_dir: Path
) -> AsyncIterator[dict[str, Any]]:
    """The sandbox started (bot ready, commands synced); stopped and awaited afterwards."""
    for name in list(os.environ):
        if name.startswith("BACKBEAT_") and not name.startswith("BACKBEAT_TEST_"):
            monkeypatch.delenv(name)
    settings = load_settings(None)
    stop = asyncio.Event()
    ready: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(
        run_sandbox(settings, data_dir=data_dir, stop=stop, ready=ready.set_result)
    )
    try:
        done, _ = await asyncio.wait({task, ready}, timeout=READY_S, return_when="FIRST_COMPLETED")
        if task in done:
            task.result()  # raises what stopped it
            raise AssertionError("the sandbox ended before it was ready")
        assert ready in done, f"the sandbox was not ready within {READY_S} s"
        yield ready.result()
    finally:
        stop.set()
        await asyncio.wait_for(task, STOP_S)


async def until(check: Callable[[], Awaitable[T | None]], *, within: float = 30.0) -> T:
    """Poll ``check`` until it returns something truthy (generous bounds: a loaded machine)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        value = await check()
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"not true within {within} s")
        await asyncio.sleep(0.2)


async def get_json(http: aiohttp.ClientSession, url: str) -> Any:
    async with http.get(url) as response:
        assert response.status == 200, (url, response.status, await response.text())
        return await response.json()


async def post_json(http: aiohttp.ClientSession, url: str, body: dict[str, Any]) -> Any:
    async with http.post(url, json=body) as response:
        assert response.status == 200, (url, response.status, await response.text())
        return await response.json()
