"""Small overrides of lavalink.py 5.11's node plumbing: drops resume, and costs less.

- :class:`ResumingTransport`: lavalink.py builds the WebSocket handshake headers once per
  connection task, so its automatic reconnect after a dropped socket does not send
  ``Session-Id`` and gets a new session. This transport hands its ``ws_connect`` calls the
  session id it holds *now* (the last ``ready``'s), so every reconnect asks to resume. It also
  drops events of a player that is no longer on this node (lavalink.py checks that only for
  ``playerUpdate``): a node that comes back after its players moved replays its queued events.
  And it handles each message in its receive loop, in order, rather than in a task of its own
  as lavalink.py does: with 10,000 players a node sends 2,000 ``playerUpdate``s a second, and
  no handler here waits on anything (the players only update fields and enqueue events, the
  node manager's hooks are no-ops, event hooks are dispatched in tasks by lavalink.py).
- :func:`keep_connections`: lavalink.py's HTTP session closes every connection after one
  request; Backbeat's keeps them (one REST call per command, thousands per restore).
- :class:`QuietNodeManager`: lavalink.py moves every player of a node to another node on
  each dropped socket and back on ``ready``; Backbeat decides that itself after a grace
  period (``backbeat.audio.lavalink.failover``), so the manager does nothing on either.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import lavalink
from lavalink.nodemanager import NodeManager
from lavalink.transport import CLOSE_TYPES, Transport

from backbeat.observability.logging import get_logger

_log = get_logger(__name__)


class _ResumingSession:
    """The client's aiohttp session, with ``Session-Id`` put into every WebSocket handshake."""

    def __init__(self, session: Any, transport: ResumingTransport) -> None:
        self._session = session
        self._transport = transport

    async def ws_connect(self, url: str, *, headers: dict[str, str], **kwargs: Any) -> Any:
        session_id = self._transport.session_id
        headers = {k: v for k, v in headers.items() if k != "Session-Id"}
        if session_id:
            headers["Session-Id"] = session_id
        return await self._session.ws_connect(url, headers=headers, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session, name)


class ResumingTransport(Transport):  # type: ignore[misc]
    """lavalink.py's transport, resuming its own session on every reconnect."""

    __slots__ = ()

    def __init__(self, node: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(node, *args, **kwargs)
        self._session = _ResumingSession(self._session, self)  # type: ignore[misc,has-type]

    async def _listen(self, socket: Any) -> tuple[Any, str | None, bool]:
        """lavalink.py's receive loop with each message handled in place (see the module)."""
        close_code: Any = None
        close_reason: str | None = "Closed without close frame (improper closure)"
        cancelled = False
        try:
            while True:
                message = await socket.receive()
                if message.type in CLOSE_TYPES:
                    close_code, close_reason = message.data, message.extra
                    break
                if message.type == aiohttp.WSMsgType.ERROR:
                    _log.warning(
                        "audio.lavalink_socket_error",
                        node=self._node.name,
                        error=repr(socket.exception()),
                    )
                    break
                if message.type == aiohttp.WSMsgType.TEXT and message.data is not None:
                    await self._handle_message_safe(message)
        except asyncio.CancelledError:
            cancelled = True
        except Exception:
            _log.exception("audio.lavalink_listen_failed", node=self._node.name)
        if close_code is None and socket.close_code is not None:
            close_code = aiohttp.WSCloseCode(socket.close_code)
        return close_code, close_reason, cancelled

    async def _handle_event(self, data: dict[str, Any]) -> None:
        player = self.client.player_manager.get(int(data["guildId"]))
        if player is not None and player.node is not self._node:
            _log.info(
                "audio.lavalink_event_of_moved_player",
                node=self._node.name,
                guild_id=int(data["guildId"]),
                type=data.get("type"),
            )
            return
        await super()._handle_event(data)


class QuietNodeManager(NodeManager):  # type: ignore[misc]
    """A node manager that never moves players and gives every node a resuming transport."""

    __slots__ = ()

    def add_node(  # noqa: PLR0917 - lavalink.py's signature, called positionally
        self,
        host: str,
        port: int,
        password: str,
        region: str,
        name: str | None = None,
        ssl: bool = False,
        session_id: str | None = None,
        connect: bool = True,
        tags: dict[str, Any] | None = None,
    ) -> Any:
        node = lavalink.Node(self, host, port, password, region, name, ssl, session_id, False, tags)
        node._transport = ResumingTransport(node, host, port, password, ssl, session_id, connect)
        self.nodes.append(node)
        return node

    async def _handle_node_ready(self, node: Any) -> None:
        return None

    async def _handle_node_disconnect(self, node: Any) -> None:
        return None


def install(client: Any) -> None:
    """Give a fresh ``lavalink.Client`` (before any node is added) the quiet manager."""
    if client.node_manager.nodes:
        raise RuntimeError("install the node manager before adding nodes")
    manager = QuietNodeManager(client, None, False)
    client.node_manager = manager


async def keep_connections(client: Any, request_timeout: aiohttp.ClientTimeout) -> None:
    """Give a fresh ``lavalink.Client`` (before any node is added) an HTTP session that keeps
    its connections: lavalink.py's closes each after one request (``force_close``), so every
    PATCH of a command or a restore opened a TCP connection of its own."""
    if client.node_manager.nodes:
        raise RuntimeError("replace the session before adding nodes")
    closing = client._session
    client._session = aiohttp.ClientSession(
        timeout=request_timeout, connector=aiohttp.TCPConnector(enable_cleanup_closed=True)
    )
    await closing.close()


async def reconnect_now(node: Any) -> None:
    """Stop the node's reconnect backoff and connect (resuming) at once: the failover
    supervisor found the node reachable again while lavalink.py still waits to retry."""
    node_transport = node._transport
    if node_transport.ws_connected:
        return
    await node_transport.close(reconnect=False)
    node_transport.connect()


def reconnecting(node: Any) -> bool:
    """Whether lavalink.py is still connected or trying to (its connection task runs)."""
    task = node._transport._connection_task
    return task is not None and not task.done()
