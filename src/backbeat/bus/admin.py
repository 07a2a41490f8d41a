"""Operator views of a bus: partitions, lease owners, lag, pending and dead letters."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from backbeat.bus.keys import AUDIO_POOL
from backbeat.bus.streams import StreamBus
from backbeat.domain.messages import Channel


async def bus_status(bus: StreamBus) -> dict[str, Any]:
    """Everything ``backbeat bus status`` shows, as plain data."""
    leases = bus.lease_store(AUDIO_POOL)
    owners = await leases.owners(bus.config.partitions)
    channels: dict[str, list[dict[str, Any]]] = {}
    for channel in Channel:
        status = await bus.status(channel)
        channels[channel.value] = [
            {"partition": partition, **asdict(stats)}
            for partition, stats in enumerate(status.streams)
        ]
    return {
        "durable": bus.is_durable,
        "partitions": bus.config.partitions,
        "shard_count": bus.config.shard_count,
        "pool": AUDIO_POOL,
        "workers": await leases.workers(),
        "leases": {
            str(partition): {"owner": owner, "ttl_ms": ttl}
            for partition, (owner, ttl) in sorted(owners.items())
        },
        "channels": channels,
    }


async def dead_letter_rows(bus: StreamBus, channels: list[Channel]) -> list[dict[str, Any]]:
    """Dead letters of the given channels, oldest first per partition."""
    rows: list[dict[str, Any]] = []
    for channel in channels:
        for letter in await bus.dead_letters(channel):
            row = asdict(letter)
            row["data"] = letter.data.decode(errors="replace")
            row["channel"] = channel.value
            rows.append(row)
    return rows
