"""The console script: version, config output with secrets masked, exit codes of bad settings
and of ``backbeat run``'s failures (each one line on standard error)."""

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
DEMO_DIR = Path(__file__).resolve().parent / "runtime"
DEMO = "runtime_demo_component"


def run_backbeat(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("BACKBEAT_")}
    clean["PYTHONPATH"] = os.pathsep.join(filter(None, [str(DEMO_DIR), clean.get("PYTHONPATH")]))
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


def run_errors(result: subprocess.CompletedProcess[str]) -> list[str]:
    """The lines ``backbeat run`` wrote about its failure (not log lines)."""
    assert "Traceback" not in result.stderr
    return [line for line in result.stderr.splitlines() if line.startswith("backbeat")]


def test_run_an_unknown_component_exits_2_listing_the_known_ones(tmp_path: Path) -> None:
    result = run_backbeat(
        "run", "--component-module", f"demo={DEMO}", "demo", "jukebox", env={}, cwd=tmp_path
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "backbeat run: unknown component 'jukebox' (known: audio, gateway, panel, demo)"
    ]


def test_run_a_component_needing_the_bot_user_id_exits_2_naming_it(tmp_path: Path) -> None:
    target = f"demo={DEMO}:NEEDS_BOT_USER_ID_FACTORY"
    result = run_backbeat("run", "--component-module", target, "demo", env={}, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "backbeat: invalid configuration: BACKBEAT_BOT_USER_ID: needed to run demo; "
        "set it or BACKBEAT_DISCORD_TOKEN"
    ]


def test_run_a_component_whose_module_is_missing_exits_1(tmp_path: Path) -> None:
    target = "ghost=backbeat.no_such_component"
    result = run_backbeat("run", "--component-module", target, "ghost", env={}, cwd=tmp_path)
    assert result.returncode == 1
    assert run_errors(result) == [
        "backbeat run: component 'ghost' is not available: "
        "module backbeat.no_such_component is not part of this installation"
    ]


def test_run_a_component_failing_at_start_stops_the_others_and_exits_1(tmp_path: Path) -> None:
    result = run_backbeat(
        "run",
        "--component-module",
        f"demo-sender={DEMO}:SENDER_FACTORY",
        "--component-module",
        f"failing={DEMO}:FAILING_START_FACTORY",
        "demo-sender",
        "failing",
        env={"BACKBEAT_STATUS_PORT": "0", "BACKBEAT_DATA_DIR": str(tmp_path / "data")},
        cwd=tmp_path,
    )
    assert result.returncode == 1
    assert run_errors(result) == [
        "backbeat run: component 'failing' failed to start: RuntimeError: the node said no"
    ]
    assert "component=demo-sender" in result.stderr.split("component stopped")[-1]


def test_run_with_a_malformed_component_module_is_a_usage_error(tmp_path: Path) -> None:
    result = run_backbeat("run", "--component-module", "no-equals-sign", env={}, cwd=tmp_path)
    assert result.returncode == 2
    assert "expected NAME=MODULE[:FACTORY]" in result.stderr
