"""Run the Lavalink emulator: ``python -m backbeat.testing.lavalink --port 0``.

Prints one JSON line ``{"rest": ..., "gateway": ..., "control": ...}`` once listening, then
serves until interrupted (SIGINT/SIGTERM).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys

from backbeat.observability.logging import configure_logging
from backbeat.testing.lavalink.server import LavalinkEmulator


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m backbeat.testing.lavalink", description="Lavalink v4 emulator"
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=2333, help="0 picks a free port")
    parser.add_argument("--password", default="youshallnotpass")
    parser.add_argument("--catalog", default=None, help="catalog JSON file (default: shipped)")
    parser.add_argument("--speed", type=float, default=1.0, help="clock speed factor")
    parser.add_argument(
        "--manual-clock", action="store_true", help="time moves only via /_control/clock/advance"
    )
    parser.add_argument("--player-update-interval", type=float, default=5.0, help="seconds")
    parser.add_argument("--stats-interval", type=float, default=60.0, help="seconds")
    parser.add_argument(
        "--discord-control", default=None, help="Discord emulator control URL (voice credentials)"
    )
    parser.add_argument("--route-planner", action="store_true", help="emulate a route planner")
    parser.add_argument("--log-level", default="INFO", help="logs go to stderr")
    return parser.parse_args(argv)


async def serve(args: argparse.Namespace) -> None:
    emulator = LavalinkEmulator(
        password=args.password,
        host=args.host,
        port=args.port,
        speed=args.speed,
        manual_clock=args.manual_clock,
        catalog=args.catalog,
        player_update_interval=args.player_update_interval,
        stats_interval=args.stats_interval,
        discord_control_url=args.discord_control,
        route_planner=args.route_planner,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    async with emulator:
        sys.stdout.write(json.dumps(emulator.ready_line()) + "\n")
        sys.stdout.flush()
        await stop.wait()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    configure_logging(level=args.log_level.upper())
    asyncio.run(serve(args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
