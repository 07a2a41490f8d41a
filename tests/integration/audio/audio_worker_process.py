"""One audio worker in a process of its own, for the crash test (run it by path).

It runs an :class:`~backbeat.audio.worker.AudioWorker` over Redis and a SQL database with
the Lavalink node given, under a stable worker id. With ``--crash-after-commit TYPE`` the
process SIGKILLs itself right after the transaction of the first ``TYPE`` command committed:
before Lavalink follows, before the reply, before the bus acknowledgement.

    python audio_worker_process.py --redis URL --prefix P --db URL --node URL --password PW
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal

from pydantic import SecretStr

from backbeat.audio.lavalink import LavalinkPlayers
from backbeat.audio.worker import AudioWorker
from backbeat.bus.factory import redis_bus
from backbeat.bus.interface import BusConfig
from backbeat.config import AudioSettings, LavalinkNode
from backbeat.db.engine import create_engine
from backbeat.domain.messages.commands import CommandEnvelope

BOT = 424_242


async def main(args: argparse.Namespace) -> None:
    config = BusConfig(**{k: int(v) for k, v in (kv.split("=") for kv in args.bus_config)})
    bus = redis_bus(args.redis, prefix=args.prefix, config=config)
    engine = create_engine(args.db)
    holder: list[AudioWorker] = []

    async def voice_request(guild_id: int, channel_id: int | None) -> None:
        await holder[0].audio.voice_request(guild_id, channel_id)

    players = LavalinkPlayers(
        user_id=BOT,
        nodes=[LavalinkNode(name="node-0", url=args.node, password=SecretStr(args.password))],
        voice_request=voice_request,
        voice_connect_timeout_s=5.0,
    )
    worker = AudioWorker(
        bus=bus,
        engine=engine,
        players=players,
        settings=AudioSettings(voice_connect_timeout_s=5.0),
        bot_user_id=BOT,
        worker_id=args.worker_id,
    )
    holder.append(worker)

    async def crash(command: CommandEnvelope) -> None:
        if command.type == args.crash_after_commit:
            print("crashing", command.id, flush=True)
            os.kill(os.getpid(), signal.SIGKILL)

    if args.crash_after_commit:
        worker.audio.after_commit = crash
    await players.start()
    print("started", flush=True)
    await worker.run()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    for name in ("--redis", "--prefix", "--db", "--node", "--password", "--worker-id"):
        parser.add_argument(name, required=True)
    parser.add_argument("--crash-after-commit", default="")
    parser.add_argument("--bus-config", nargs="*", default=[])
    asyncio.run(main(parser.parse_args()))
