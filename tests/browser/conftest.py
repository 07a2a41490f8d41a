"""Browser tests: headless Chromium (Debian's ``chromium``) driven by Playwright.

Chromium is never downloaded (no ``playwright install``): the system's ``/usr/bin/chromium``
is used (``BACKBEAT_TEST_CHROMIUM`` points elsewhere). Without it the tests are skipped with
the reason, except under CI (``CI=true``), where a missing browser fails them.
The panel rig of ``tests/integration/panel`` and the gateway + audio rig of
``tests/integration/gateway`` are shared.
"""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

_TESTS = Path(__file__).resolve().parents[1]
# The panel rig, and the gateway + audio rig for the tests with the whole bot.
sys.path.insert(0, str(_TESTS / "integration" / "gateway"))
sys.path.insert(0, str(_TESTS / "integration" / "panel"))

from panel_rig import panel_db_url, panel_engine, rig  # noqa: E402

__all__ = ["browser", "panel_db_url", "panel_engine", "rig"]

CHROMIUM = os.environ.get("BACKBEAT_TEST_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _chromium_missing() -> bool:
    return not Path(CHROMIUM).exists()


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    """A launched headless Chromium (closed afterwards)."""
    if _chromium_missing():
        message = f"chromium not found at {CHROMIUM} (apt-get install -y chromium)"
        if _in_ci():
            pytest.fail(message)
        pytest.skip(message)
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield launched
        finally:
            await launched.close()
