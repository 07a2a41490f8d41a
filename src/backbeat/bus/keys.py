"""Every Redis key and consumer-group name of the bus, in one place.

All keys start with the deployment's ``BACKBEAT_REDIS_KEY_PREFIX``:

``<prefix><channel>:<p>``             stream of partition ``p`` of a channel
``<prefix><channel>:<p>:dead``        its dead letters
``<prefix>bus:lease:<pool>:<p>``      lease of partition ``p`` for a worker pool
                                      (value: ``<owner>|<fencing token>``, expires)
``<prefix>bus:fence:<pool>:<p>``      last fencing token handed out for that partition
                                      (never expires, so tokens only rise)
``<prefix>bus:workers:<pool>``        sorted set of live workers, score = heartbeat expiry (ms)
``<prefix>bus:changes:<pool>``        counter bumped whenever a lease is released or a worker
                                      joins or leaves, so the others rebalance at once
"""

from __future__ import annotations

from dataclasses import dataclass

from backbeat.domain.messages import Channel

DEAD_SUFFIX = ":dead"

#: Consumer group of each channel's main consumers.
DEFAULT_GROUPS: dict[Channel, str] = {
    Channel.COMMANDS: "audio",
    Channel.TO_AUDIO: "audio",
    Channel.TO_DISCORD: "gateway",
    Channel.UI_NOW: "gateway",
}

#: Channels partitioned by guild id mod BUS_PARTITIONS; the others by Discord shard id.
GUILD_PARTITIONED: frozenset[Channel] = frozenset({Channel.COMMANDS, Channel.TO_AUDIO})

#: Lease pool of the audio workers: one lease covers partition p of commands and to-audio.
AUDIO_POOL = "audio"

#: Stream entry fields.
FIELD_MESSAGE = b"m"
FIELD_REASON = b"reason"
FIELD_DETAIL = b"detail"
FIELD_SOURCE = b"source"
FIELD_SOURCE_ID = b"source_id"
FIELD_GROUP = b"group"
FIELD_DELIVERIES = b"deliveries"
FIELD_DEAD_AT = b"dead_at"


@dataclass(frozen=True, slots=True)
class Keys:
    """Key names under one prefix."""

    prefix: str = ""

    def stream(self, channel: Channel, partition: int) -> str:
        return f"{self.prefix}{channel.value}:{partition}"

    def dead(self, channel: Channel, partition: int) -> str:
        return self.stream(channel, partition) + DEAD_SUFFIX

    def lease(self, pool: str, partition: int) -> str:
        return f"{self.prefix}bus:lease:{pool}:{partition}"

    def fence(self, pool: str, partition: int) -> str:
        return f"{self.prefix}bus:fence:{pool}:{partition}"

    def workers(self, pool: str) -> str:
        return f"{self.prefix}bus:workers:{pool}"

    def changes(self, pool: str) -> str:
        return f"{self.prefix}bus:changes:{pool}"
