"""``backbeat sandbox`` and ``backbeat run`` as a new user runs them, as child processes."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp

READY_S = 120.0
STOP_S = 30.0


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("BACKBEAT_")}


def _listening(url: str) -> bool:
    parts = urlsplit(url)
    with socket.socket() as probe:
        probe.settimeout(2)
        return probe.connect_ex((parts.hostname or "127.0.0.1", parts.port or 80)) == 0


async def test_sandbox_prints_one_ready_line_serves_the_page_and_stops_on_sigterm(
    tmp_path: Path,
) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "backbeat", "sandbox", "--port", "0",
        env=_clean_env(), cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None
    assert process.stderr is not None
    try:
        raw = await asyncio.wait_for(process.stdout.readline(), READY_S)
        assert raw, "backbeat sandbox ended before its ready line"
        line = json.loads(raw)
        assert set(line) >= {"sandbox", "panel", "status", "discord", "lavalink", "components"}
        assert line["components"] == ["audio", "gateway", "panel"]
        urls = [
            line["sandbox"], line["panel"], line["status"],
            line["discord"]["control"], line["lavalink"]["control"],
        ]  # fmt: skip
        assert all(urlsplit(url).hostname == "127.0.0.1" for url in urls)
        data_dir = Path(line["data_dir"])
        assert (data_dir / "backbeat.db").exists()  # SQLite, migrated on first use
        async with aiohttp.ClientSession() as http:
            async with http.get(line["sandbox"]) as page:
                assert page.status == 200
                assert "Backbeat sandbox" in await page.text()
            async with http.get(line["sandbox"] + "api/sandbox") as sandbox:
                assert (await sandbox.json())["guild"]["name"] == "Backbeat Sandbox"
            async with http.get(line["status"] + "/ready") as ready:
                assert ready.status == 200
        human = await asyncio.wait_for(process.stderr.readline(), 10)
        assert human.decode().startswith("Backbeat sandbox ready: open " + line["sandbox"])
        process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(process.wait(), STOP_S)
        rest = await process.stdout.read()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert code == 0
    assert rest == b""  # one ready line, nothing else on standard output
    assert not [url for url in urls if _listening(url)]  # nothing left listening
    assert not await asyncio.to_thread(data_dir.exists)  # the temporary directory is removed


async def test_run_without_a_token_points_at_the_sandbox(tmp_path: Path) -> None:
    for names in ([], ["gateway"]):
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "backbeat", "run", *names,
            env=_clean_env(), cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await asyncio.wait_for(process.communicate(), 60)
        assert process.returncode == 2
        lines = err.decode().splitlines()
        assert len(lines) == 1, lines
        assert "BACKBEAT_DISCORD_TOKEN" in lines[0]
        assert "backbeat sandbox" in lines[0]
        assert out == b""


async def test_a_data_dir_is_kept(tmp_path: Path) -> None:
    data_dir = tmp_path / "kept"
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "backbeat", "sandbox", "--port", "0", "--data-dir", str(data_dir),
        env=_clean_env(), cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    assert process.stdout is not None
    try:
        line = json.loads(await asyncio.wait_for(process.stdout.readline(), READY_S))
        assert line["data_dir"] == str(data_dir)
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), STOP_S) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert await asyncio.to_thread((data_dir / "backbeat.db").exists)
