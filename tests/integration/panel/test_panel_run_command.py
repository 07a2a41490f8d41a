"""``backbeat run panel`` as an operator runs it: login through the emulator, /ready, and
SIGTERM handled by backbeat (not by uvicorn): exit code 0 after a clean stop."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

import httpx
from panel_rig import authorize

from backbeat.testing.discord import DiscordEmulator

WAIT_S = 60.0


async def _event(stderr: asyncio.StreamReader, event: str, seen: list[str]) -> dict[str, Any]:
    while True:
        raw = await asyncio.wait_for(stderr.readline(), WAIT_S)
        if not raw:
            raise AssertionError(f"backbeat run ended before {event!r}:\n" + "".join(seen))
        line = raw.decode()
        seen.append(line)
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and record.get("event") == event:
            return record


async def test_backbeat_run_panel_logs_in_and_stops_on_sigterm(tmp_path: Path) -> None:
    async with DiscordEmulator(port=0, default_world=True) as emu:
        alice = emu.default_ids["alice"]
        emu.world.guild(emu.default_ids["guild"]).owner_id = alice
        env = {k: v for k, v in os.environ.items() if not k.startswith("BACKBEAT_")}
        settings = {
            "STATUS_PORT": "0",
            "LOG_FORMAT": "json",
            "DATA_DIR": str(tmp_path / "data"),
            "DISCORD_TOKEN": emu.token,
            "DISCORD_API_BASE": emu.rest_url,
            "PANEL_PORT": "0",
            "PANEL_SESSION_SECRET": "r" * 40,
            "PANEL_OAUTH_CLIENT_SECRET": emu.oauth.client_secret,
        }
        env.update({f"BACKBEAT_{k}": v for k, v in settings.items()})
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "backbeat",
            "run",
            "panel",
            env=env,
            cwd=tmp_path,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        seen: list[str] = []
        try:
            assert process.stderr is not None
            panel = await _event(process.stderr, "panel started", seen)
            started = await _event(process.stderr, "process started", seen)
            public_url = panel["public_url"]
            assert panel["redirect_uri"] == f"{public_url}/auth/callback"
            emu.oauth.register_redirect_uri(panel["redirect_uri"])
            async with httpx.AsyncClient(timeout=20.0) as http:
                ready = await http.get(f"{started['status_url']}/ready")
                assert ready.status_code == 200, ready.text
                assert ready.json()["checks"]["panel.http"] is True
            async with httpx.AsyncClient(base_url=public_url, timeout=20.0) as browser:
                start = await browser.get("/login")
                callback = await authorize(start.headers["location"], alice)
                guilds = await browser.get(callback, follow_redirects=True)
                assert guilds.status_code == 200
                assert "Backbeat Sandbox" in guilds.text
            process.send_signal(signal.SIGTERM)
            rest = await asyncio.wait_for(process.stderr.read(), WAIT_S)
            seen.append(rest.decode())
            assert await asyncio.wait_for(process.wait(), WAIT_S) == 0, "".join(seen)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
        output = "".join(seen)
        assert "Traceback" not in output
        assert emu.oauth.client_secret not in output
        assert "r" * 40 not in output
