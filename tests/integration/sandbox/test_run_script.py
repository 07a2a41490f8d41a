"""``scripts/run``, the README's run command, with and without a Discord token."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
from pathlib import Path

import pytest

from backbeat.cli import main as backbeat_main
from backbeat.sandbox.cli import DEFAULT_PORT
from backbeat.testing.discord import mint_token

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = ROOT / "scripts" / "run"
READY_S = 180.0


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BACKBEAT_")}
    env.update(extra)
    return env


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _no_env_file() -> None:
    if (ROOT / ".env").exists():
        pytest.skip(".env in the checkout configures this machine's bot")


async def test_without_a_token_it_says_so_and_starts_the_sandbox() -> None:
    _no_env_file()
    if not _port_free(DEFAULT_PORT):
        pytest.skip(f"port {DEFAULT_PORT} (the sandbox page's default) is taken here")
    process = await asyncio.create_subprocess_exec(
        str(SCRIPT), env=_env(), stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None
    assert process.stderr is not None
    try:
        said = (await asyncio.wait_for(process.stderr.readline(), READY_S)).decode()
        assert said.startswith("No BACKBEAT_DISCORD_TOKEN configured: starting the local sandbox")
        line = json.loads(await asyncio.wait_for(process.stdout.readline(), READY_S))
        assert line["sandbox"] == f"http://127.0.0.1:{DEFAULT_PORT}/"
        process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(process.wait(), 30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert code == 0


async def test_with_a_token_it_runs_the_bot(tmp_path: Path) -> None:
    _no_env_file()
    # The panel's secrets are missing, so `backbeat run` stops at once naming one: proof that
    # the token sent scripts/run to `backbeat run`, not to the sandbox.
    env = _env(BACKBEAT_DISCORD_TOKEN=mint_token(4242), BACKBEAT_DATA_DIR=str(tmp_path))
    process = await asyncio.create_subprocess_exec(
        str(SCRIPT), env=env, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), READY_S)
    assert process.returncode == 2
    assert "invalid configuration: BACKBEAT_PANEL_SESSION_SECRET" in err.decode()
    assert "sandbox" not in err.decode()
    assert out == b""


def test_backbeat_sandbox_is_a_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        backbeat_main(["sandbox", "--help"])
    assert stopped.value.code == 0
    assert "--data-dir" in capsys.readouterr().out
