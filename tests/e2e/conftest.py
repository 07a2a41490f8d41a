"""Acceptance tests: the seed's sequence diagrams (data-flow-architecture.md), each run on
the ``deployment`` fixture's two set-ups (embedded: one process; distributed: Redis,
PostgreSQL, the gateway and audio as separate ``backbeat run`` processes).

One test module per diagram: /play command, voice connection establishment, button
interaction, search and cache, error propagation, metrics collection, autoplay.
"""

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
            print(found.log_text())  # the processes' last log lines, shown when a test fails
