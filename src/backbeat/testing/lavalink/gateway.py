"""Lavalink's WebSocket ``/v4/websocket``: handshake checks, ready/resume, then server push.

Handshake as ``HandshakeInterceptorImpl``: a wrong or missing ``Authorization`` is 401, a
missing, non-numeric or zero ``User-Id`` is 400, and the 101 response carries
``Session-Resumed: true|false``. Client messages are ignored (v4 has none).
"""

from __future__ import annotations

import asyncio

from aiohttp import WSMsgType, web

from backbeat.observability.logging import get_logger
from backbeat.testing.lavalink.node import LavalinkNode
from backbeat.testing.lavalink.responses import API_VERSION, API_VERSION_HEADER

_log = get_logger(__name__)


class Gateway:
    """The WebSocket endpoint of one node; remembers open sockets so faults can drop them."""

    def __init__(self, node: LavalinkNode) -> None:
        self.node = node
        self.sockets: set[web.WebSocketResponse] = set()

    def route(self) -> web.RouteDef:
        return web.get("/v4/websocket", self.handle)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        api = {API_VERSION_HEADER: API_VERSION}
        if request.headers.get("Authorization") != self.node.config.password:
            _log.warning("lavalink_emulator.ws_auth_failed", remote=request.remote)
            return web.Response(status=401, headers=api)
        raw_user = request.headers.get("User-Id", "")
        try:
            user_id = int(raw_user)
        except ValueError:
            user_id = 0
        if user_id == 0:
            _log.warning("lavalink_emulator.ws_missing_user_id", remote=request.remote)
            return web.Response(status=400, headers=api)
        resume_id = request.headers.get("Session-Id")
        resuming = self.node.can_resume(resume_id)
        ws = web.WebSocketResponse(autoping=True)
        ws.headers[API_VERSION_HEADER] = API_VERSION
        ws.headers["Session-Resumed"] = "true" if resuming else "false"
        await ws.prepare(request)
        session = self.node.open_session(
            ws,
            request,
            user_id,
            request.headers.get("Client-Name"),
            resume_id if resuming else None,
        )
        self.sockets.add(ws)
        try:
            await session.flush()
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    _log.info("lavalink_emulator.ws_message_ignored", session_id=session.id)
        except (asyncio.CancelledError, ConnectionError):
            pass
        finally:
            self.sockets.discard(ws)
            self.node.socket_closed(session, ws)
        return ws

    async def drop(self, session_id: str | None = None, code: int | None = None) -> int:
        """Close sockets (all, or one session's): abruptly when ``code`` is None."""
        dropped = 0
        for session in list(self.node.sessions.values()):
            if session_id is not None and session.id != session_id:
                continue
            ws, request = session.ws, session.request
            if ws is None or request is None:
                continue
            dropped += 1
            if code is None:
                if request.transport is not None:
                    request.transport.abort()
                self.node.socket_closed(session, ws)
            else:
                await ws.close(code=code)
        return dropped
