"""The control API of the Lavalink emulator: inspect state, drive the clock, inject faults.

:class:`EmulatorControl` is the in-process form (``node.control``); :func:`control_routes`
serves the same operations over HTTP under ``/_control/`` (no Lavalink password), and
:class:`~backbeat.testing.lavalink.control_client.LavalinkControlClient` calls them from
another process. Both forms take the same arguments and return the same JSON-ready values.
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

from aiohttp import web

from backbeat.testing.lavalink.clock import ScaledClock
from backbeat.testing.lavalink.failures import failure
from backbeat.testing.lavalink.faults import Delay, HttpFault, LoadFault, TrackFault
from backbeat.testing.lavalink.responses import json_response

if TYPE_CHECKING:
    from backbeat.testing.lavalink.server import LavalinkEmulator


class EmulatorControl:
    """Operations on one emulator, awaited in-process."""

    def __init__(self, emulator: LavalinkEmulator) -> None:
        self._emulator = emulator

    @property
    def _node(self) -> Any:
        return self._emulator.node

    # ----- inspection ----------------------------------------------------------------

    async def state(self) -> dict[str, Any]:
        """Sessions (with players), clock and armed faults."""
        return self._emulator.state()

    async def players(self, session_id: str | None = None) -> list[dict[str, Any]]:
        """Player objects of every session (or one), each with ``sessionId`` added."""
        now = self._node.now()
        found: list[dict[str, Any]] = []
        for session in self._node.sessions.values():
            if session_id is not None and session.id != session_id:
                continue
            for player in session.players.values():
                found.append({"sessionId": session.id, **player.to_json(now)})
        return found

    async def player(self, guild_id: int, session_id: str | None = None) -> dict[str, Any] | None:
        """One guild's player (the first session holding it when no session is named)."""
        for item in await self.players(session_id):
            if item["guildId"] == str(guild_id):
                return item
        return None

    async def position(self, guild_id: int, session_id: str | None = None) -> int | None:
        """The guild's track position on the emulator's clock (None: no track)."""
        item = await self.player(guild_id, session_id)
        if item is None or item["track"] is None:
            return None
        return int(item["state"]["position"])

    async def requests(self, path_prefix: str = "/") -> list[dict[str, Any]]:
        """REST requests received (``method``, ``path``, ``query``), oldest first, whose
        path starts with ``path_prefix`` (``/v4/loadtracks``: every load and search)."""
        return [r for r in self._emulator.requests if str(r["path"]).startswith(path_prefix)]

    async def clear_requests(self) -> None:
        self._emulator.requests.clear()

    # ----- clock ---------------------------------------------------------------------

    async def clock(self) -> dict[str, Any]:
        clock = self._node.clock
        speed = clock.speed if isinstance(clock, ScaledClock) else None
        return {"nowMs": clock.now_ms(), "manual": clock.manual, "speed": speed}

    async def advance(self, ms: float) -> dict[str, Any]:
        """Move emulated time forward and fire (and send) everything that became due."""
        self._node.clock.advance(ms)
        await self._node.tick()
        return await self.clock()

    async def set_speed(self, speed: float) -> dict[str, Any]:
        clock = self._node.clock
        if not isinstance(clock, ScaledClock):
            raise ValueError("the manual clock has no speed; use advance()")
        clock.set_speed(speed)
        return await self.clock()

    # ----- faults --------------------------------------------------------------------

    async def faults(self) -> list[dict[str, Any]]:
        return self._emulator.faults.to_json()

    async def clear_faults(self) -> None:
        self._emulator.faults.clear()

    async def remove_fault(self, fault_id: int) -> bool:
        return self._emulator.faults.remove(fault_id)

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
        """Loading (``stage='load'``) or playing (``stage='play'``) ``match`` fails.

        ``kind``: a key of :data:`backbeat.testing.lavalink.failures.FAILURES`.
        ``match`` is an identifier, track identifier or URI.
        """
        if stage not in ("load", "play"):
            raise ValueError("stage must be load or play")
        fault = LoadFault(
            match=match,
            stage="load" if stage == "load" else "play",
            failure=failure(kind, message, severity),
            remaining=times,
        )
        self._emulator.faults.load_faults.append(fault)
        return fault.id

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
        """The next matching track fails after ``after_ms`` of track time (exception, end)."""
        fault = TrackFault(
            kind="exception",
            after_ms=after_ms,
            guild_id=guild_id,
            identifier=identifier,
            failure=failure(kind, message, severity),
            remaining=times,
        )
        self._emulator.faults.track_faults.append(fault)
        return fault.id

    async def track_stuck(
        self,
        *,
        after_ms: int,
        guild_id: int | None = None,
        identifier: str | None = None,
        threshold_ms: int = 10_000,
        times: int | None = 1,
    ) -> int:
        """The next matching track reports TrackStuck after ``after_ms`` of track time."""
        fault = TrackFault(
            kind="stuck",
            after_ms=after_ms,
            guild_id=guild_id,
            identifier=identifier,
            threshold_ms=threshold_ms,
            remaining=times,
        )
        self._emulator.faults.track_faults.append(fault)
        return fault.id

    async def http_errors(
        self,
        count: int,
        *,
        status: int = 500,
        path_prefix: str = "/v4/",
        message: str | None = None,
    ) -> int:
        """The next ``count`` REST requests under ``path_prefix`` answer ``status``."""
        if count < 1 or not 400 <= status <= 599:
            raise ValueError("count must be positive and status an HTTP error status")
        fault = HttpFault(status=status, remaining=count, path_prefix=path_prefix, message=message)
        self._emulator.faults.http_faults.append(fault)
        return fault.id

    async def delay(self, ms: int, *, path_prefix: str = "/", times: int | None = None) -> int:
        """Answer requests under ``path_prefix`` ``ms`` real milliseconds late."""
        if ms < 0:
            raise ValueError("ms must not be negative")
        item = Delay(ms=ms, path_prefix=path_prefix, remaining=times)
        self._emulator.faults.delays.append(item)
        return item.id

    async def close_voice(
        self,
        guild_id: int,
        *,
        code: int = 4006,
        reason: str | None = None,
        by_remote: bool = True,
        session_id: str | None = None,
    ) -> int:
        """Discord closes the voice connection of a guild (4006, 4014, ...). Returns players hit."""
        reasons = {
            4006: "Session is no longer valid.",
            4014: "Disconnected.",
            4015: "Voice server crashed.",
            4009: "Session timed out.",
        }
        text = reason if reason is not None else reasons.get(code, "")
        hit = 0
        now = self._node.now()
        for session in self._node.sessions.values():
            if session_id is not None and session.id != session_id:
                continue
            player = session.players.get(guild_id)
            if player is not None:
                player.close_voice(code, text, by_remote, now)
                hit += 1
        await self._node.flush_all()
        return hit

    async def drop_socket(self, session_id: str | None = None, code: int | None = None) -> int:
        """Cut sockets (without close frame unless ``code``). Returns how many."""
        return await self._emulator.gateway.drop(session_id, code)

    async def kill(self, *, lose_state: bool = False, restart_after_ms: int | None = None) -> None:
        """Stop listening (see ``LavalinkEmulator.kill``), optionally restarting later."""
        await self._emulator.kill(lose_state=lose_state)
        if restart_after_ms is not None:
            self._emulator.schedule_restart(restart_after_ms / 1000.0)

    async def restart(self) -> None:
        await self._emulator.restart()

    async def fail_address(self, address: str) -> None:
        """Mark a route-planner address as failing (visible in routeplanner status)."""
        import time

        self._node.failing_addresses[address] = int(time.time() * 1000)


# ----- HTTP ----------------------------------------------------------------------------


def _error(status: int, message: str) -> web.Response:
    return json_response({"error": message}, status=status)


async def _body(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    if not raw:
        return {}
    data = json.loads(raw)
    if not isinstance(data, dict):
        raise ValueError("body must be a JSON object")
    return data


def _opt_int(value: Any) -> int | None:
    return None if value is None else int(value)


def control_routes(control: EmulatorControl) -> list[web.RouteDef]:
    """The ``/_control/`` routes; every answer is JSON, bad input is a 400 with ``error``."""

    def wrap(fn: Any) -> Any:
        async def handler(request: web.Request) -> web.Response:
            try:
                body = await _body(request) if request.method in ("POST", "PUT") else {}
                result = await fn(request, body)
            except (ValueError, TypeError, KeyError) as exc:
                return _error(400, f"bad request: {exc}")
            if result is None:
                return web.Response(status=204)
            return json_response(result)

        return handler

    async def state(request: web.Request, body: dict[str, Any]) -> Any:
        return await control.state()

    async def players(request: web.Request, body: dict[str, Any]) -> Any:
        return await control.players(request.query.get("sessionId"))

    async def requests(request: web.Request, body: dict[str, Any]) -> Any:
        return await control.requests(request.query.get("pathPrefix", "/"))

    async def clear_requests(request: web.Request, body: dict[str, Any]) -> Any:
        await control.clear_requests()
        return None

    async def clock(request: web.Request, body: dict[str, Any]) -> Any:
        return await control.clock()

    async def advance(request: web.Request, body: dict[str, Any]) -> Any:
        return await control.advance(float(body["ms"]))

    async def speed(request: web.Request, body: dict[str, Any]) -> Any:
        return await control.set_speed(float(body["speed"]))

    async def faults(request: web.Request, body: dict[str, Any]) -> Any:
        return await control.faults()

    async def clear(request: web.Request, body: dict[str, Any]) -> Any:
        await control.clear_faults()
        return None

    async def remove(request: web.Request, body: dict[str, Any]) -> Any:
        removed = await control.remove_fault(int(request.match_info["fault_id"]))
        return None if removed else {"removed": False}

    async def load(request: web.Request, body: dict[str, Any]) -> Any:
        fault_id = await control.fail_load(
            str(body["match"]),
            kind=str(body.get("kind", "unavailable")),
            stage=str(body.get("stage", "load")),
            message=body.get("message"),
            severity=body.get("severity"),
            times=_opt_int(body.get("times")),
        )
        return {"id": fault_id}

    async def exception(request: web.Request, body: dict[str, Any]) -> Any:
        fault_id = await control.track_exception(
            after_ms=int(body["afterMs"]),
            guild_id=_opt_int(body.get("guildId")),
            identifier=body.get("identifier"),
            kind=str(body.get("kind", "decoding")),
            message=body.get("message"),
            severity=body.get("severity"),
            times=_opt_int(body.get("times", 1)),
        )
        return {"id": fault_id}

    async def stuck(request: web.Request, body: dict[str, Any]) -> Any:
        fault_id = await control.track_stuck(
            after_ms=int(body["afterMs"]),
            guild_id=_opt_int(body.get("guildId")),
            identifier=body.get("identifier"),
            threshold_ms=int(body.get("thresholdMs", 10_000)),
            times=_opt_int(body.get("times", 1)),
        )
        return {"id": fault_id}

    async def http(request: web.Request, body: dict[str, Any]) -> Any:
        fault_id = await control.http_errors(
            int(body.get("count", 1)),
            status=int(body.get("status", 500)),
            path_prefix=str(body.get("pathPrefix", "/v4/")),
            message=body.get("message"),
        )
        return {"id": fault_id}

    async def delay(request: web.Request, body: dict[str, Any]) -> Any:
        fault_id = await control.delay(
            int(body["ms"]),
            path_prefix=str(body.get("pathPrefix", "/")),
            times=_opt_int(body.get("times")),
        )
        return {"id": fault_id}

    async def voice_close(request: web.Request, body: dict[str, Any]) -> Any:
        hit = await control.close_voice(
            int(body["guildId"]),
            code=int(body.get("code", 4006)),
            reason=body.get("reason"),
            by_remote=bool(body.get("byRemote", True)),
            session_id=body.get("sessionId"),
        )
        return {"players": hit}

    async def drop(request: web.Request, body: dict[str, Any]) -> Any:
        dropped = await control.drop_socket(body.get("sessionId"), _opt_int(body.get("code")))
        return {"dropped": dropped}

    async def kill(request: web.Request, body: dict[str, Any]) -> Any:
        lose_state = bool(body.get("loseState", False))
        restart_after = _opt_int(body.get("restartAfterMs"))

        async def later() -> None:
            await asyncio.sleep(0.05)
            await control.kill(lose_state=lose_state, restart_after_ms=restart_after)

        task = asyncio.get_running_loop().create_task(later())
        _background.add(task)
        task.add_done_callback(_background.discard)
        return None

    async def fail_address(request: web.Request, body: dict[str, Any]) -> Any:
        await control.fail_address(str(body["address"]))
        return None

    return [
        web.get("/_control/state", wrap(state)),
        web.get("/_control/players", wrap(players)),
        web.get("/_control/requests", wrap(requests)),
        web.delete("/_control/requests", wrap(clear_requests)),
        web.get("/_control/clock", wrap(clock)),
        web.post("/_control/clock/advance", wrap(advance)),
        web.post("/_control/clock/speed", wrap(speed)),
        web.get("/_control/faults", wrap(faults)),
        web.delete("/_control/faults", wrap(clear)),
        web.delete("/_control/faults/{fault_id}", wrap(remove)),
        web.post("/_control/faults/load", wrap(load)),
        web.post("/_control/faults/track-exception", wrap(exception)),
        web.post("/_control/faults/track-stuck", wrap(stuck)),
        web.post("/_control/faults/http", wrap(http)),
        web.post("/_control/faults/delay", wrap(delay)),
        web.post("/_control/voice/close", wrap(voice_close)),
        web.post("/_control/sockets/drop", wrap(drop)),
        web.post("/_control/kill", wrap(kill)),
        web.post("/_control/routeplanner/failing", wrap(fail_address)),
    ]


_background: set[asyncio.Task[None]] = set()
