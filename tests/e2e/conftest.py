"""The ``deployment`` fixture: the whole bot in each set-up (embedded, distributed)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from e2e_rig import SETUPS, Deployment, distributed, embedded


@pytest.fixture(params=SETUPS)
async def deployment(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Deployment]:
    if request.param == "embedded":
        async with embedded(tmp_path, monkeypatch) as found:
            yield found
    else:
        redis_url: str = request.getfixturevalue("redis_url")
        prefix: str = request.getfixturevalue("redis_key_prefix")
        async with distributed(tmp_path, redis_url, prefix) as found:
            yield found
