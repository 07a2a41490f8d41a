"""A private ``redis-server`` for tests that stop, kill and restart Redis.

Tests of failures (a Redis restart under a tap, workers killed mid-message) must never touch
the shared server, so :class:`RedisServer` runs its own ``redis-server`` subprocess on a free
port of 127.0.0.1 with its own directory. Persistence is the append-only file only
(``appendonly yes``, ``appendfsync always``, no RDB snapshots): every write Redis answered is
on disk before the answer, so it survives :meth:`RedisServer.restart`, even with SIGKILL.

Fixture: ``redis_server`` (a started server for one test, stopped afterwards).
"""

from __future__ import annotations

import atexit
import contextlib
import random
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

_started: set[RedisServer] = set()


@atexit.register
def _kill_leftovers() -> None:
    """A run that ends without the fixture's teardown must not leave servers behind."""
    for server in list(_started):
        server.stop(kill=True)


class RedisServerError(RuntimeError):
    """The private Redis server could not be started or did not answer."""


EPHEMERAL_RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")
LOWEST_CHOSEN_PORT = 10_000


def _ephemeral_low() -> int:
    """The lowest port the kernel hands out as an outgoing connection's local port."""
    try:
        return int(EPHEMERAL_RANGE_FILE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A TCP port of 127.0.0.1 nobody listens on right now, below the ephemeral range.

    A server restarted on its port needs that port still free when it comes back: a port
    of the ephemeral range may meanwhile be taken as the local port of any outgoing
    connection, and a client reconnecting to it while nothing listens can even connect to
    itself (TCP simultaneous open). Ports below the range are never handed out that way."""
    low = _ephemeral_low()
    if low > LOWEST_CHOSEN_PORT + 100:
        for _ in range(50):
            port = random.randrange(LOWEST_CHOSEN_PORT, low)
            if _bindable(port):
                return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ping(port: int, timeout: float = 0.5) -> bool:
    """True when a Redis on ``port`` answers PING with PONG (not LOADING, not an error)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    """One ``redis-server`` process with AOF persistence in ``directory``.

    ``restart()`` stops the process (SIGTERM, or SIGKILL with ``kill=True``) and starts a new
    one on the same port and directory, which reloads the append-only file.
    """

    def __init__(
        self,
        directory: Path,
        *,
        port: int | None = None,
        binary: str = "redis-server",
        start_timeout: float = 30.0,
    ) -> None:
        found = shutil.which(binary)
        if found is None:
            raise RedisServerError(f"{binary!r} is not installed")
        self.binary = found
        self.directory = directory
        self.port = port or free_port()
        self.start_timeout = start_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._fixed_port = port is not None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def log_path(self) -> Path:
        return self.directory / "redis.log"

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def _command(self) -> list[str]:
        return [
            self.binary,
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--dir", str(self.directory),
            "--appendonly", "yes",
            "--appendfsync", "always",
            "--save", "",
            "--daemonize", "no",
            "--protected-mode", "yes",
            "--logfile", str(self.log_path),
        ]  # fmt: skip

    def _log_tail(self) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-15:])
        except OSError:
            return "(no log)"

    def start(self) -> None:
        """Start the server and wait until it answers PING (the AOF fully loaded)."""
        if self.running:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        for attempt in range(5):
            self._process = subprocess.Popen(
                self._command(),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            if self._wait_ready():
                _started.add(self)
                return
            # The port may have been taken between free_port() and the bind: try another,
            # unless this server must keep its port (a restart, or a port asked for).
            self._reap()
            if self._fixed_port or attempt == 4:
                break
            self.port = free_port()
        raise RedisServerError(
            f"redis-server on port {self.port} did not answer PING:\n{self._log_tail()}"
        )

    def _wait_ready(self) -> bool:
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self._process is None or self._process.poll() is not None:
                return False
            if ping(self.port):
                self._fixed_port = True  # from now on this server keeps its port
                return True
            time.sleep(0.02)
        return False

    def _reap(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.kill()
        process.wait()

    def stop(self, *, kill: bool = False, timeout: float = 30.0) -> None:
        """End the server: SIGTERM (Redis syncs and exits) or SIGKILL; waits for the exit."""
        process, self._process = self._process, None
        _started.discard(self)
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def restart(self, *, kill: bool = False, down_for: float = 0.0) -> None:
        """Stop (SIGTERM, or SIGKILL) and start again on the same port and directory."""
        self.stop(kill=kill)
        if down_for:
            time.sleep(down_for)
        self.start()

    def __enter__(self) -> RedisServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@pytest.fixture
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A private, started ``redis-server`` (AOF ``always``) for one test; stopped after it."""
    try:
        server = RedisServer(tmp_path_factory.mktemp("redis"))
    except RedisServerError as exc:
        pytest.fail(str(exc))
    server.start()
    try:
        yield server
    finally:
        server.stop(kill=True)
        with contextlib.suppress(OSError):
            shutil.rmtree(server.directory)


__all__ = ["RedisServer", "RedisServerError", "free_port", "ping", "redis_server"]
