"""Serving the panel app with uvicorn inside the running event loop.

The listening socket is bound here (so a busy port is an ``OSError`` at start, and port 0
reports the port chosen), and uvicorn's own signal handling is switched off: the process
(``backbeat run``) owns SIGTERM and SIGINT and stops the server through :meth:`stop`.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Generator
from typing import Any

import uvicorn

from backbeat.observability.logging import get_logger

_log = get_logger(__name__)
STOP_TIMEOUT_S = 5.0


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (IPv4 or IPv6)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


class PanelServer:
    """One uvicorn server for an ASGI app; ``start`` returns once it accepts connections."""

    def __init__(
        self, app: Any, *, host: str, port: int, sock: socket.socket | None = None
    ) -> None:
        """Serve on ``sock`` when given (already bound by :func:`bind`), else bind at start."""
        self._app = app
        self._host = host
        self._port = port
        self._server: _Server | None = None
        self._task: asyncio.Task[None] | None = None
        self._socket: socket.socket | None = sock
        self.port: int | None = None

    @property
    def running(self) -> bool:
        return (
            self._server is not None
            and self._server.started
            and not self._server.should_exit
            and self._task is not None
            and not self._task.done()
        )

    async def start(self) -> int:
        """Bind, serve, and return the bound port."""
        if self._socket is None:
            self._socket = bind(self._host, self._port)
        self.port = int(self._socket.getsockname()[1])
        config = uvicorn.Config(
            self._app,
            log_config=None,
            access_log=False,
            lifespan="off",
            server_header=False,
            proxy_headers=False,
        )
        self._server = _Server(config)
        self._task = asyncio.get_running_loop().create_task(
            self._server.serve(sockets=[self._socket]), name="panel-http"
        )
        while not self._server.started:
            if self._task.done():
                self._task.result()
                raise RuntimeError("the panel's web server stopped while starting")
            await asyncio.sleep(0.01)
        _log.info("panel listening", host=self._host, port=self.port)
        return self.port

    async def stop(self) -> None:
        """Stop accepting, finish open requests (bounded), close the socket."""
        if self._server is not None:
            self._server.should_exit = True
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), STOP_TIMEOUT_S)
            except TimeoutError:
                if self._server is not None:
                    self._server.force_exit = True
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await self._task
            except Exception as error:
                _log.warning("panel web server failed", error=repr(error))
            self._task = None
        if self._socket is not None:
            self._socket.close()
            self._socket = None
        self._server = None
