"""``python -m backbeat.testing.discord --host H --port P [--token T]``.

Prints one JSON line ``{"rest", "gateway", "control", "oauth", "token", "bot_user_id",
"oauth_client_id", "oauth_client_secret"}`` once it listens, then serves until interrupted.
It starts with a small default world (a guild with a text channel, two voice channels and
three users) unless ``--empty`` is given. ``--oauth-redirect-uri`` (repeatable) allows a
redirect URI for the OAuth2 login (the panel's ``/auth/callback``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys

from backbeat.testing.discord.gateway import GatewayOptions
from backbeat.testing.discord.ratelimits import RateLimitConfig
from backbeat.testing.discord.server import DiscordEmulator
from backbeat.testing.discord.snowflakes import user_id_from_token


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m backbeat.testing.discord", description="Wire-level Discord emulator."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--token", help="the bot token to accept (default: a fresh one)")
    parser.add_argument("--empty", action="store_true", help="start without the default world")
    parser.add_argument("--shards", type=int, default=1, help="shard count /gateway/bot suggests")
    parser.add_argument(
        "--identify-interval",
        type=float,
        default=0.0,
        help="seconds between IDENTIFYs per concurrency bucket (Discord: 5; 0: no limit)",
    )
    parser.add_argument(
        "--heartbeat-ack-delay",
        type=float,
        default=0.005,
        help="seconds before a heartbeat is acknowledged (a network round trip; 0: at once)",
    )
    parser.add_argument(
        "--discord-rate-limits",
        action="store_true",
        help="Discord's published limits instead of the generous defaults",
    )
    parser.add_argument(
        "--oauth-redirect-uri",
        action="append",
        default=[],
        help="an OAuth2 redirect URI to allow (repeatable), e.g. the panel's /auth/callback",
    )
    parser.add_argument(
        "--oauth-client-secret", help="the application's OAuth2 client secret (default: random)"
    )
    return parser


async def serve(args: argparse.Namespace) -> None:
    if args.token is not None:
        user_id_from_token(args.token)
    emulator = DiscordEmulator(
        token=args.token,
        host=args.host,
        port=args.port,
        shard_count=args.shards,
        default_world=not args.empty,
        rate_limits=RateLimitConfig.discord_like() if args.discord_rate_limits else None,
        gateway_options=GatewayOptions(
            identify_interval=args.identify_interval, heartbeat_ack_delay=args.heartbeat_ack_delay
        ),
        oauth_client_secret=args.oauth_client_secret,
    )
    for uri in args.oauth_redirect_uri:
        emulator.oauth.register_redirect_uri(uri)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    async with emulator:
        line = {
            **emulator.urls(),
            "token": emulator.token,
            "bot_user_id": str(emulator.bot_user_id),
            "oauth": emulator.oauth_url,
            "oauth_client_id": str(emulator.oauth.client_id),
            "oauth_client_secret": emulator.oauth.client_secret,
        }
        sys.stdout.write(json.dumps(line) + "\n")
        sys.stdout.flush()
        await stop.wait()


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        asyncio.run(serve(args))
    except ValueError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
