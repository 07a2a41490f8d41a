"""A worker process SIGKILLed between a command's commit and its acknowledgement: the
command is taken back by the next worker and applied once (Redis + SQL servers only: the
in-process bus does not outlive its process)."""

from __future__ import annotations

import asyncio
import dataclasses
import sys
from pathlib import Path

import pytest
from audio_rig import (
    AUDIO_BUS_CONFIG,
    AppliedMessage,
    AudioRig,
    AuditLog,
    RigFactory,
    fast_settings,
    urls,
)

from backbeat.db.models import QueueItem
from backbeat.domain.messages.commands import Play, QueryPayload
from backbeat.domain.messages.to_discord import Notice, TrackStart

GUILD = 1_000_000_030
WORKER = Path(__file__).with_name("audio_worker_process.py")


async def _line(stream: asyncio.StreamReader, prefix: bytes) -> bytes:
    """The first output line starting with ``prefix`` (log lines are skipped)."""
    while True:
        line = await stream.readline()
        if not line:
            raise AssertionError(f"the worker exited before printing {prefix!r}")
        if line.startswith(prefix):
            return line


async def test_a_command_whose_worker_was_killed_after_commit_is_applied_once(
    audio_stack: str, make_rig: RigFactory, request: pytest.FixtureRequest
) -> None:
    if audio_stack == "embedded":
        pytest.skip("the in-process bus dies with its process (at-most-once across a crash)")
    rig: AudioRig = await make_rig(fast_settings(), start_worker=False)
    prefix = request.getfixturevalue("redis_key_prefix")
    config = [
        f"{f.name}={getattr(AUDIO_BUS_CONFIG, f.name)}"
        for f in dataclasses.fields(AUDIO_BUS_CONFIG)
    ]
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(WORKER),
        "--redis", request.getfixturevalue("redis_url"), "--prefix", prefix,
        "--db", rig.db_url, "--node", f"http://{rig.emulator.host}:{rig.emulator.port}",
        "--password", rig.emulator.password, "--worker-id", "audio-doomed",
        "--crash-after-commit", "play", "--bus-config", *config,
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        await asyncio.wait_for(_line(process.stdout, b"started"), 30)
        command = Play(
            guild_id=GUILD, context=rig.context(), payload=QueryPayload(query=urls()["one"])
        )
        await asyncio.sleep(1.0)  # its leases
        await rig.send(command)
        line = await asyncio.wait_for(_line(process.stdout, b"crashing "), 30)
        assert line.split()[1] == command.id.encode()
        assert await asyncio.wait_for(process.wait(), 30) == -9
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert len(await rig.rows(QueueItem)) == 1, "committed before the crash"
    assert not await rig.replies(command)

    await rig.start_worker()  # another worker takes the partitions once the leases expire
    reply = await rig.reply(command, wait=30)
    assert isinstance(reply, Notice)
    assert len(await rig.rows(QueueItem)) == 1, "applied once"
    assert [a.action for a in await rig.rows(AuditLog, GUILD)] == ["play"]
    assert [r.message_id for r in await rig.rows(AppliedMessage, GUILD)] == [command.id]
    await rig.discord.wait(TrackStart, lambda m: m.guild_id == GUILD)  # restored from SQL
