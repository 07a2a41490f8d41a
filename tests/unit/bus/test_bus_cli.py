"""``backbeat bus`` against a real Redis (and its answer when the bus is in-process)."""

from __future__ import annotations

import json

import pytest

from backbeat.bus import AUDIO_POOL, BusConfig, redis_bus
from backbeat.cli import main
from backbeat.domain.messages import Channel
from backbeat.testing.backends import run_sync
from backbeat.testing.bus_fixtures import Recorder, eventually, play, running


@pytest.fixture
def redis_env(monkeypatch: pytest.MonkeyPatch, redis_url: str, redis_key_prefix: str) -> str:
    monkeypatch.setenv("BACKBEAT_REDIS_URL", redis_url)
    monkeypatch.setenv("BACKBEAT_REDIS_KEY_PREFIX", redis_key_prefix)
    monkeypatch.setenv("BACKBEAT_BUS_PARTITIONS", "4")
    return redis_key_prefix


def test_in_process_bus_is_explained(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("BACKBEAT_REDIS_URL", raising=False)
    assert main(["--env-file", "/nonexistent", "bus", "status"]) == 0
    assert "in-process" in capsys.readouterr().out
    assert main(["--env-file", "/nonexistent", "bus", "replay", "--all"]) == 1


async def _dead_letter_one(redis_url: str, prefix: str) -> None:
    bus = redis_bus(redis_url, prefix=prefix, config=BusConfig(partitions=4, block_ms=50))
    try:
        await bus.publish_raw(Channel.COMMANDS, 2, b"not json")
        await bus.publish(Channel.COMMANDS, play(6, "fine"))  # partition 2
        recorder = Recorder()
        consumer = bus.consume(Channel.COMMANDS, recorder, partitions=[2], consumer="cli-test")
        async with running(consumer):
            await eventually(lambda: len(recorder.deliveries) == 1)
        await bus.lease_store(AUDIO_POOL).heartbeat("worker-x", 60_000)
        assert await bus.lease_store(AUDIO_POOL).acquire(1, "worker-x", 60_000)
    finally:
        await bus.close()


def test_status_lists_partitions_owners_pending_and_dead_letters(
    redis_env: str, redis_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    run_sync(_dead_letter_one(redis_url, redis_env))
    assert _cli(["bus", "status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["workers"] == ["worker-x"]
    assert status["leases"]["1"]["owner"] == "worker-x"
    stream = status["channels"][Channel.COMMANDS.value][2]
    assert stream["length"] == 2
    assert stream["dead_letters"] == 1
    assert stream["groups"][0]["name"] == "audio"
    assert stream["groups"][0]["pending"] == 0
    assert stream["groups"][0]["lag"] == 0

    assert _cli(["bus", "status"]) == 0
    text = capsys.readouterr().out
    assert "partition    1: worker-x" in text
    assert "audio 0/0/1" in text


def _cli(argv: list[str]) -> int:
    return main(["--env-file", "/nonexistent", *argv])


def test_dead_letters_listed_and_replayed(
    redis_env: str, redis_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    run_sync(_dead_letter_one(redis_url, redis_env))
    assert _cli(["bus", "dead-letters", "--channel", "commands", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(row["reason"], row["data"]) for row in rows] == [("malformed", "not json")]
    assert _cli(["bus", "dead-letters", "--channel", "ui:now"]) == 0
    assert "no dead letters" in capsys.readouterr().out

    assert _cli(["bus", "replay", "--id", "0-1"]) == 1
    assert "not found: 0-1" in capsys.readouterr().out
    assert _cli(["bus", "replay", "--id", rows[0]["dead_id"]]) == 0
    assert "replayed 1 dead letter(s)" in capsys.readouterr().out
    assert _cli(["bus", "dead-letters", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
