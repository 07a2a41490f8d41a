"""Serving an aiohttp application on a host and port, the one way every server here does it."""

from __future__ import annotations

from aiohttp import web


async def start_site(
    app: web.Application,
    *,
    host: str,
    port: int,
    shutdown_timeout: float = 1.0,
    reuse_address: bool | None = None,
) -> tuple[web.AppRunner, int]:
    """Serve ``app``; returns its runner (``cleanup()`` stops it) and the bound port.

    Port 0 lets the system pick a free port, which is what tests and ``--port 0`` use.
    """
    runner = web.AppRunner(
        app, handle_signals=False, access_log=None, shutdown_timeout=shutdown_timeout
    )
    await runner.setup()
    site = web.TCPSite(runner, host, port, reuse_address=reuse_address)
    try:
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    sockets = getattr(site._server, "sockets", None) or []
    bound = int(sockets[0].getsockname()[1]) if sockets else port
    return runner, bound
