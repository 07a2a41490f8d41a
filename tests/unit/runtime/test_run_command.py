"""``python -m backbeat run`` as an operator runs it: status endpoints, SIGTERM, exit codes."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from runtime_support import get_json

from backbeat.db.migrate import head_revision
from backbeat.testing.bus_fixtures import eventually

HERE = Path(__file__).resolve().parent
DEMO = ("--component-module", "demo=runtime_demo_component")
SENDER = ("--component-module", "demo-sender=runtime_demo_component:SENDER_FACTORY")
HANGING = ("--component-module", "hanging=runtime_demo_component:HANGING_STOP_FACTORY")
WAIT_S = 60.0


def environment(tmp_path: Path, **values: str) -> dict[str, str]:
    """The environment of a child: no BACKBEAT_* of ours but these, JSON logs, any free port."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BACKBEAT_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE), env.get("PYTHONPATH")]))
    settings = {"STATUS_PORT": "0", "LOG_FORMAT": "json", "DATA_DIR": str(tmp_path / "data")}
    env.update({f"BACKBEAT_{k}": v for k, v in (settings | values).items()})
    return env


class Child:
    """A ``backbeat run`` process whose JSON log lines are read as they come."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lines: list[str] = []

    async def wait_for_event(self, event: str) -> dict[str, Any]:
        """The first log object with this ``event``, reading stderr until it comes."""
        for line in self.lines:
            found = _event(line, event)
            if found is not None:
                return found
        assert self.process.stderr is not None
        while True:
            raw = await asyncio.wait_for(self.process.stderr.readline(), WAIT_S)
            if not raw:
                pytest.fail(f"backbeat run ended before {event!r}:\n" + "".join(self.lines))
            line = raw.decode()
            self.lines.append(line)
            found = _event(line, event)
            if found is not None:
                return found

    async def exit_code(self) -> int:
        assert self.process.stderr is not None
        rest = await asyncio.wait_for(self.process.stderr.read(), WAIT_S)
        self.lines.extend(rest.decode().splitlines(keepends=True))
        return await asyncio.wait_for(self.process.wait(), WAIT_S)

    @property
    def stderr(self) -> str:
        return "".join(self.lines)


def _event(line: str, event: str) -> dict[str, Any] | None:
    try:
        record = json.loads(line)
    except ValueError:
        return None
    return record if isinstance(record, dict) and record.get("event") == event else None


@asynccontextmanager
async def backbeat(*args: str, env: dict[str, str], cwd: Path) -> AsyncIterator[Child]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "backbeat",
        *args,
        env=env,
        cwd=cwd,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        yield Child(process)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def migrate(env: dict[str, str], cwd: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "backbeat",
        "migrate",
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(process.communicate(), WAIT_S)
    assert process.returncode == 0, err.decode()


@pytest.fixture
def backend_env(
    request: pytest.FixtureRequest, db_backend: str, bus_backend: str, tmp_path: Path
) -> dict[str, str]:
    """Settings for the chosen backends; SQLite is the embedded default (no URL at all)."""
    values: dict[str, str] = {}
    if db_backend != "sqlite":
        values["DATABASE_URL"] = request.getfixturevalue("fresh_database_url")
    if bus_backend == "redis":
        values["REDIS_URL"] = request.getfixturevalue("redis_url")
        values["REDIS_KEY_PREFIX"] = request.getfixturevalue("redis_key_prefix")
    return environment(tmp_path, **values)


async def test_run_serves_status_until_sigterm_then_exits_0(
    backend_env: dict[str, str], db_backend: str, tmp_path: Path
) -> None:
    if db_backend != "sqlite":
        await migrate(backend_env, tmp_path)
    async with backbeat(
        "run", *DEMO, *SENDER, "demo", "demo-sender", env=backend_env, cwd=tmp_path
    ) as child:
        started = await child.wait_for_event("process started")
        assert started["components"] == ["demo", "demo-sender"]
        url = started["status_url"]

        status, health = await get_json(f"{url}/health")
        assert (status, health["status"], health["component"]) == (200, "ok", "demo,demo-sender")

        async def received() -> bool:
            _, stats = await get_json(f"{url}/stats")
            return bool(stats["sections"]["demo"]["received"] >= 3)

        await eventually(received, seconds=WAIT_S)
        status, ready = await get_json(f"{url}/ready")
        assert status == 200, ready
        assert set(ready["checks"]) == {
            "started",
            "bus",
            "database",
            "demo.consuming",
            "demo-sender.sending",
        }
        _, stats = await get_json(f"{url}/stats")
        assert stats["sections"]["demo"]["schema"] == head_revision()
        assert stats["sections"]["demo-sender"]["sent"] >= 3
        async with aiohttp.ClientSession() as http, http.get(f"{url}/metrics") as response:
            assert response.status == 200
            assert "bus_messages_published_total" in await response.text()

        child.process.send_signal(signal.SIGTERM)
        assert await child.exit_code() == 0, child.stderr
    assert "Traceback" not in child.stderr
    assert _event(child.stderr.splitlines()[-1], "process stopped") is not None
    if db_backend == "sqlite":  # a fresh machine: the embedded database was made and migrated
        assert (tmp_path / "data" / "backbeat.db").exists()


async def test_a_second_signal_exits_at_once(tmp_path: Path) -> None:
    env = environment(tmp_path)
    async with backbeat(
        "run", *SENDER, *HANGING, "demo-sender", "hanging", env=env, cwd=tmp_path
    ) as child:
        await child.wait_for_event("process started")
        child.process.send_signal(signal.SIGINT)
        stopping = await child.wait_for_event("stopping")
        assert stopping["signal"] == "SIGINT"
        # "hanging" stops first (reverse order) and never finishes: only the second signal ends it.
        child.process.send_signal(signal.SIGTERM)
        assert await child.exit_code() == 128 + signal.SIGTERM, child.stderr
    assert _event(child.stderr.splitlines()[-1], "second signal: exiting now") is not None
    assert "component stopped" not in child.stderr
