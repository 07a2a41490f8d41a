"""Python client of the emulator's HTTP control API (``/_control/``).

Same method names, arguments and results as the in-process
:class:`~backbeat.testing.lavalink.control.EmulatorControl`, for an emulator running in
another process (``python -m backbeat.testing.lavalink``)::

    async with LavalinkControlClient("http://127.0.0.1:2333/_control") as control:
        await control.fail_load("ytsearch:broken", kind="bot_check")
        await control.advance(30_000)
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

import aiohttp


class ControlError(RuntimeError):
    """The control API refused a request."""


class LavalinkControlClient:
    """Talks to ``{control_url}/...``; use as an async context manager or call ``close()``."""

    def __init__(self, control_url: str, *, timeout_seconds: float = 10.0) -> None:
        self._base = control_url.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._http: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> LavalinkControlClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None

    async def _call(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
    ) -> Any:
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=self._timeout)
        async with self._http.request(
            method, f"{self._base}{path}", json=body, params=params
        ) as response:
            if response.status == 204:
                return None
            data = await response.json(content_type=None)
            if response.status >= 400:
                message = data.get("error") if isinstance(data, dict) else data
                raise ControlError(f"{method} {path}: {response.status} {message}")
            return data

    # ----- inspection ----------------------------------------------------------------

    async def state(self) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("GET", "/state")
        return result

    async def players(self, session_id: str | None = None) -> list[dict[str, Any]]:
        params = {"sessionId": session_id} if session_id else None
        result: list[dict[str, Any]] = await self._call("GET", "/players", params=params)
        return result

    async def player(self, guild_id: int, session_id: str | None = None) -> dict[str, Any] | None:
        for item in await self.players(session_id):
            if item["guildId"] == str(guild_id):
                return item
        return None

    async def position(self, guild_id: int, session_id: str | None = None) -> int | None:
        item = await self.player(guild_id, session_id)
        if item is None or item["track"] is None:
            return None
        return int(item["state"]["position"])

    async def requests(self, path_prefix: str = "/") -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = await self._call(
            "GET", "/requests", params={"pathPrefix": path_prefix}
        )
        return result

    async def clear_requests(self) -> None:
        await self._call("DELETE", "/requests")

    # ----- clock ---------------------------------------------------------------------

    async def clock(self) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("GET", "/clock")
        return result

    async def advance(self, ms: float) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("POST", "/clock/advance", {"ms": ms})
        return result

    async def set_speed(self, speed: float) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("POST", "/clock/speed", {"speed": speed})
        return result

    # ----- faults --------------------------------------------------------------------

    async def faults(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = await self._call("GET", "/faults")
        return result

    async def clear_faults(self) -> None:
        await self._call("DELETE", "/faults")

    async def remove_fault(self, fault_id: int) -> bool:
        return await self._call("DELETE", f"/faults/{fault_id}") is None

    async def fail_load(
        self,
        match: str,
        *,
        kind: str = "unavailable",
        stage: str = "load",
        message: str | None = None,
        severity: str | None = None,
        times: int | None = None,
    ) -> int:
        body = {
            "match": match,
            "kind": kind,
            "stage": stage,
            "message": message,
            "severity": severity,
            "times": times,
        }
        return int((await self._call("POST", "/faults/load", body))["id"])

    async def track_exception(
        self,
        *,
        after_ms: int,
        guild_id: int | None = None,
        identifier: str | None = None,
        kind: str = "decoding",
        message: str | None = None,
        severity: str | None = None,
        times: int | None = 1,
    ) -> int:
        body = {
            "afterMs": after_ms,
            "guildId": None if guild_id is None else str(guild_id),
            "identifier": identifier,
            "kind": kind,
            "message": message,
            "severity": severity,
            "times": times,
        }
        return int((await self._call("POST", "/faults/track-exception", body))["id"])

    async def track_stuck(
        self,
        *,
        after_ms: int,
        guild_id: int | None = None,
        identifier: str | None = None,
        threshold_ms: int = 10_000,
        times: int | None = 1,
    ) -> int:
        body = {
            "afterMs": after_ms,
            "guildId": None if guild_id is None else str(guild_id),
            "identifier": identifier,
            "thresholdMs": threshold_ms,
            "times": times,
        }
        return int((await self._call("POST", "/faults/track-stuck", body))["id"])

    async def http_errors(
        self,
        count: int,
        *,
        status: int = 500,
        path_prefix: str = "/v4/",
        message: str | None = None,
    ) -> int:
        body = {"count": count, "status": status, "pathPrefix": path_prefix, "message": message}
        return int((await self._call("POST", "/faults/http", body))["id"])

    async def delay(self, ms: int, *, path_prefix: str = "/", times: int | None = None) -> int:
        body = {"ms": ms, "pathPrefix": path_prefix, "times": times}
        return int((await self._call("POST", "/faults/delay", body))["id"])

    async def close_voice(
        self,
        guild_id: int,
        *,
        code: int = 4006,
        reason: str | None = None,
        by_remote: bool = True,
        session_id: str | None = None,
    ) -> int:
        body = {
            "guildId": str(guild_id),
            "code": code,
            "reason": reason,
            "byRemote": by_remote,
            "sessionId": session_id,
        }
        return int((await self._call("POST", "/voice/close", body))["players"])

    async def drop_socket(self, session_id: str | None = None, code: int | None = None) -> int:
        body = {"sessionId": session_id, "code": code}
        return int((await self._call("POST", "/sockets/drop", body))["dropped"])

    async def kill(self, *, lose_state: bool = False, restart_after_ms: int | None = None) -> None:
        """Kill the node shortly after answering; it comes back after ``restart_after_ms``."""
        await self._call(
            "POST", "/kill", {"loseState": lose_state, "restartAfterMs": restart_after_ms}
        )

    async def fail_address(self, address: str) -> None:
        await self._call("POST", "/routeplanner/failing", {"address": address})
