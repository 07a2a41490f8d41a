"""Helpers of the runtime tests: the settings factory's type, HTTP reads of a status server."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aiohttp

from backbeat.config import Settings

MakeSettings = Callable[..., Settings]


async def get_json(url: str) -> tuple[int, Any]:
    """Status code and JSON body of ``GET url``."""
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, await response.json()
