"""The console script: version, config output with secrets masked, exit code 2 on bad settings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from backbeat import __version__
from backbeat.cli import main

TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GaBcDe.dG9wLXNlY3JldC10b2tlbi1wYXJ0"


def run_backbeat(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("BACKBEAT_")}
    return subprocess.run(
        [sys.executable, "-m", "backbeat", *args],
        env=clean | env,
        cwd=cwd,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
        check=False,
    )


def test_version(tmp_path: Path) -> None:
    result = run_backbeat("--version", env={}, cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout.strip() == f"backbeat {__version__}"


def test_bad_log_level_exits_2_with_one_line_naming_it(tmp_path: Path) -> None:
    result = run_backbeat("config", env={"BACKBEAT_LOG_LEVEL": "LOUD"}, cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "BACKBEAT_LOG_LEVEL" in lines[0]
    assert "'DEBUG', 'INFO', 'WARNING', 'ERROR' or 'CRITICAL'" in lines[0]
    assert result.stdout == ""


def test_config_masks_the_token(tmp_path: Path) -> None:
    result = run_backbeat("config", "--json", env={"BACKBEAT_DISCORD_TOKEN": TOKEN}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert TOKEN not in result.stdout + result.stderr
    view = json.loads(result.stdout)
    assert view["BACKBEAT_DISCORD_TOKEN"] == "********"
    assert view["BACKBEAT_BOT_USER_ID"] == "123456789012345678"


def test_config_reads_the_env_file_given(tmp_path: Path) -> None:
    (tmp_path / "prod.env").write_text("BACKBEAT_BUS_PARTITIONS=64\n")
    result = run_backbeat("--env-file", "prod.env", "config", env={}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "BACKBEAT_BUS_PARTITIONS" in result.stdout
    assert " 64" in result.stdout


def test_no_command_prints_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "COMMAND" in capsys.readouterr().out


def test_unknown_command_is_a_usage_error() -> None:
    with pytest.raises(SystemExit) as caught:
        main(["does-not-exist"])
    assert caught.value.code == 2
