"""One audio worker in a process of its own, for the crash test (run it by path).

It runs an :class:`~backbeat.audio.worker.AudioWorker` over Redis and a SQL database with
the Lavalink node given, under a stable worker id. With ``--crash-after-commit TYPE`` the
process SIGKILLs itself right after the transaction of the first ``TYPE`` command committed:
before Lavalink follows, before the reply, before the bus acknowledgement. SIGTERM is the
graceful hand-over (``AudioWorker.stop``); the process prints ``owned P,… T`` (unix time)
whenever its owned partitions change and ``stopped T`` when the hand-over is done.

    python audio_worker_process.py --redis URL --prefix P --db URL --node URL --password PW
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import time

from pydantic import SecretStr

from backbeat.audio.lavalink import LavalinkPlayers
from backbeat.audio.worker import AudioWorker
from backbeat.bus.factory import redis_bus
from backbeat.bus.interface import BusConfig
from backbeat.config import AudioSettings, LavalinkNode
from backbeat.db.engine import create_engine
from backbeat.domain.messages.commands import CommandEnvelope
from backbeat.observability.logging import configure_logging
from backbeat.testing.dns import FakeResolver

BOT = 424_242


async def main(args: argparse.Namespace) -> None:
    configure_logging(level="INFO", fmt="console")  # as ``backbeat run`` does (plain tracebacks)
    config = BusConfig(**{k: int(v) for k, v in (kv.split("=") for kv in args.bus_config)})
    bus = redis_bus(args.redis, prefix=args.prefix, config=config)
    engine = create_engine(args.db)
    holder: list[AudioWorker] = []

    async def voice_request(guild_id: int, channel_id: int | None) -> None:
        await holder[0].audio.voice_request(guild_id, channel_id)

    nodes = [LavalinkNode(name="node-0", url=args.node, password=SecretStr(args.password))]
    players = LavalinkPlayers(
        user_id=BOT,
        nodes=nodes,
        voice_request=voice_request,
        voice_connect_timeout_s=5.0,
        resume_timeout_s=args.resume_timeout,
    )
    worker = AudioWorker(
        bus=bus,
        engine=engine,
        players=players,
        settings=AudioSettings(voice_connect_timeout_s=5.0),
        bot_user_id=BOT,
        worker_id=args.worker_id,
        nodes=nodes,
        resume_timeout_s=args.resume_timeout,
        resolver=FakeResolver(),  # no real DNS: the catalog's hosts are public
    )
    holder.append(worker)

    async def crash(command: CommandEnvelope) -> None:
        if command.type == args.crash_after_commit:
            print("crashing", command.id, flush=True)
            os.kill(os.getpid(), signal.SIGKILL)

    if args.crash_after_commit:
        worker.audio.after_commit = crash

    async def watch() -> None:
        owned: frozenset[int] | None = None
        while True:
            if worker.lease_worker.consuming != owned:
                owned = worker.lease_worker.consuming
                print("owned", ",".join(map(str, sorted(owned))) or "-", time.time(), flush=True)
            await asyncio.sleep(0.01)

    async def graceful() -> None:
        await worker.stop()
        print("stopped", time.time(), flush=True)

    loop = asyncio.get_running_loop()
    await players.start()
    watcher = asyncio.create_task(watch())
    print("started", flush=True)
    stopping: list[asyncio.Task[None]] = []
    loop.add_signal_handler(signal.SIGTERM, lambda: stopping.append(loop.create_task(graceful())))
    try:
        await worker.run()
        await asyncio.gather(*stopping)  # run() returns once the leases are released
    finally:
        watcher.cancel()
        await players.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    for name in ("--redis", "--prefix", "--db", "--node", "--password", "--worker-id"):
        parser.add_argument(name, required=True)
    parser.add_argument("--crash-after-commit", default="")
    parser.add_argument("--bus-config", nargs="*", default=[])
    parser.add_argument("--resume-timeout", type=int, default=60)
    asyncio.run(main(parser.parse_args()))
