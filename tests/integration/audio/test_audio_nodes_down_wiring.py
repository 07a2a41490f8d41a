"""The audio component keeps its Lavalink session ids in SQL, and only with a stable worker id.

A restarted worker resumes its sessions (and so its players) only when it finds their ids:
the component stores them through ``SqlSessionStore`` under ``BACKBEAT_AUDIO_WORKER_ID``;
without one the default id changes with every process and nothing is stored.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from backbeat.audio.component import COMPONENT_FACTORY
from backbeat.config import load_settings
from backbeat.db.repositories.lavalink_sessions import SqlSessionStore
from backbeat.observability.status import StatusServer
from backbeat.runtime import ProcessContext
from backbeat.testing.lavalink.server import LavalinkEmulator


def _settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **values: str) -> Any:
    for name in list(os.environ):
        if name.startswith("BACKBEAT_") and not name.startswith("BACKBEAT_TEST_"):
            monkeypatch.delenv(name)
    for name, value in ({"STATUS_PORT": "0", "DATA_DIR": str(tmp_path)} | values).items():
        monkeypatch.setenv(f"BACKBEAT_{name}", value)
    return load_settings(None)


@pytest.mark.parametrize("worker_id", ["audio-eu-1", None])
async def test_the_component_stores_session_ids_only_with_a_worker_id(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    lavalink_emulator: LavalinkEmulator,
    worker_id: str | None,
) -> None:
    node = {
        "name": "node-a",
        "url": f"http://{lavalink_emulator.host}:{lavalink_emulator.port}",
        "password": lavalink_emulator.password,
    }
    values = {"BOT_USER_ID": "424242", "LAVALINK_NODES": json.dumps([node])}
    if worker_id is not None:
        values["AUDIO_WORKER_ID"] = worker_id
    settings = _settings(monkeypatch, tmp_path, **values)
    component = COMPONENT_FACTORY(settings)
    async with StatusServer(port=0) as status:
        process = ProcessContext(settings, status)
        try:
            await component.start(process)
            store = SqlSessionStore(await process.database())
            deadline = time.monotonic() + 15
            while not lavalink_emulator.node.sessions:
                assert time.monotonic() < deadline, "no Lavalink session opened"
                await asyncio.sleep(0.05)
            [session_id] = list(lavalink_emulator.node.sessions)
            if worker_id is None:
                await asyncio.sleep(0.5)  # room for a save that must not happen
                assert component.worker is not None
                assert await store.load(component.worker.worker_id, "node-a") is None
            else:
                while await store.load(worker_id, "node-a") is None:
                    assert time.monotonic() < deadline, "the session id was not stored"
                    await asyncio.sleep(0.05)
                assert await store.load(worker_id, "node-a") == session_id
        finally:
            await component.stop()
            await process.close()
