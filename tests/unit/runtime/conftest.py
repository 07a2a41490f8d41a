"""Settings for runtime tests: only the variables a test sets, a private data directory."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from runtime_support import MakeSettings

from backbeat.config import Settings, load_settings


@pytest.fixture
def make_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> MakeSettings:
    """``make_settings(REDIS_URL=...)``: settings from these ``BACKBEAT_*`` values only.

    The status server gets a free port and SQLite lives in this test's directory.
    """

    def make(**values: str) -> Settings:
        for name in list(os.environ):
            if name.startswith("BACKBEAT_") and not name.startswith("BACKBEAT_TEST_"):
                monkeypatch.delenv(name)
        defaults = {"STATUS_PORT": "0", "DATA_DIR": str(tmp_path / "data")}
        for name, value in (defaults | values).items():
            monkeypatch.setenv(f"BACKBEAT_{name}", value)
        return load_settings(None)

    return make
