"""``backbeat bus``: inspect the Redis bus and replay dead letters.

``status`` lists every partition stream with its length, each consumer group's pending count
and lag, dead-letter counts, the audio pool's live workers and which worker leases which
partition. ``dead-letters`` lists dead letters with their reason; ``replay`` puts chosen ones
(``--id``) or all of them (``--all``) back on their streams. With no ``BACKBEAT_REDIS_URL`` the
bus lives inside the running process, and these commands explain that instead.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import UTC, datetime
from typing import Any

from redis.exceptions import RedisError

from backbeat.bus.admin import bus_status, dead_letter_rows
from backbeat.bus.factory import create_bus
from backbeat.bus.streams import StreamBus
from backbeat.cli_command import EXIT_FAILED, EXIT_OK, Command
from backbeat.config import Settings, mask_url
from backbeat.domain.messages import Channel

IN_PROCESS = (
    "The bus is in-process (BACKBEAT_REDIS_URL is unset): its streams live inside the "
    "process that serves every component, and end with it. Set "
    "BACKBEAT_REDIS_URL to run components as separate processes and inspect the bus here."
)


def _channel(value: str) -> Channel:
    for channel in Channel:
        if value in (channel.value, channel.value.removeprefix("discord-bot:")):
            return channel
    names = ", ".join(c.value.removeprefix("discord-bot:") for c in Channel)
    raise argparse.ArgumentTypeError(f"unknown channel {value!r} (choose from {names})")


def _arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="bus_command", metavar="ACTION", required=True)
    status = sub.add_parser("status", help="partitions, lease owners, lag, pending, dead letters")
    status.add_argument("--json", action="store_true", help="print JSON")
    listing = sub.add_parser("dead-letters", help="list dead letters and why")
    listing.add_argument("--channel", type=_channel, help="only this channel (e.g. commands)")
    listing.add_argument("--json", action="store_true", help="print JSON")
    replay = sub.add_parser("replay", help="put dead letters back on their streams")
    replay.add_argument("--channel", type=_channel, help="only this channel (e.g. commands)")
    which = replay.add_mutually_exclusive_group(required=True)
    which.add_argument("--id", action="append", dest="ids", metavar="DEAD_ID", help="repeatable")
    which.add_argument("--all", action="store_true", help="every dead letter")


def _print_status(status: dict[str, Any], where: str) -> None:
    print(
        f"bus: {where}; {status['partitions']} partitions (commands, to-audio), "
        f"{status['shard_count']} shard partitions (to-discord, ui:now)"
    )
    print(f"workers in pool {status['pool']}: {', '.join(status['workers']) or '(none)'}")
    leases = status["leases"]
    for partition in range(status["partitions"]):
        lease = leases.get(str(partition))
        owner = f"{lease['owner']} ({lease['ttl_ms']} ms left)" if lease else "(unowned)"
        print(f"  partition {partition:>4}: {owner}")
    for channel, streams in status["channels"].items():
        print(channel)
        print(f"  {'p':>4} {'length':>8} {'dead':>6}  groups (pending/lag/consumers)")
        for stream in streams:
            groups = ", ".join(
                f"{g['name']} {g['pending']}/{'?' if g['lag'] is None else g['lag']}"
                f"/{g['consumers']}"
                for g in stream["groups"]
            )
            print(
                f"  {stream['partition']:>4} {stream['length']:>8} "
                f"{stream['dead_letters']:>6}  {groups or '(no group)'}"
            )


def _print_dead(rows: list[dict[str, Any]]) -> None:
    if not rows:
        print("no dead letters")
        return
    for row in rows:
        when = datetime.fromtimestamp(row["dead_at"], UTC).isoformat(timespec="seconds")
        print(
            f"{row['dead_id']}  {row['source_stream']}  {row['reason']}  "
            f"deliveries={row['deliveries']}  at={when}"
        )
        print(f"    {row['detail']}")
        print(f"    {row['data'][:200]}")


async def _run_action(args: argparse.Namespace, bus: StreamBus, where: str) -> int:
    channels = [args.channel] if getattr(args, "channel", None) else list(Channel)
    if args.bus_command == "status":
        status = await bus_status(bus)
        if args.json:
            print(json.dumps(status, indent=2))
        else:
            _print_status(status, where)
        return EXIT_OK
    if args.bus_command == "dead-letters":
        rows = await dead_letter_rows(bus, channels)
        if args.json:
            print(json.dumps(rows, indent=2))
        else:
            _print_dead(rows)
        return EXIT_OK
    wanted = None if args.all else list(args.ids)
    replayed: list[str] = []
    for channel in channels:
        replayed.extend(await bus.replay(channel, wanted))
    print(f"replayed {len(replayed)} dead letter(s)")
    for dead_id in replayed:
        print(f"  {dead_id}")
    missing = set(wanted or ()) - set(replayed)
    if missing:
        print(f"not found: {', '.join(sorted(missing))}")
        return EXIT_FAILED
    return EXIT_OK


def _run(args: argparse.Namespace, settings: Settings) -> int:
    url = settings.bus.redis_url
    if url is None:
        print(IN_PROCESS)
        return EXIT_OK if args.bus_command != "replay" else EXIT_FAILED
    where = f"redis {mask_url(url)} prefix {settings.bus.redis_key_prefix!r}"

    async def main() -> int:
        bus = create_bus(settings)
        try:
            return await _run_action(args, bus, where)
        finally:
            await bus.close()

    try:
        return asyncio.run(main())
    except RedisError as error:
        print(f"backbeat bus: cannot reach Redis at {mask_url(url)}: {error}", file=sys.stderr)
        return EXIT_FAILED


COMMANDS: list[Command] = [
    Command("bus", "inspect the message bus and replay dead letters", _arguments, _run),
]
