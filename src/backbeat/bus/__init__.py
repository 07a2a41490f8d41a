"""Message bus between the services: Redis Streams or in-process, one interface.

See docs/bus.md. Services use :class:`Bus` (publish, consume, tap, leases); build one with
:func:`create_bus` from settings, or :func:`memory_bus` / :func:`redis_bus` directly.
"""

from backbeat.bus.dedupe import LatestState, RecentIds
from backbeat.bus.factory import bus_config, create_bus, memory_bus, redis_bus
from backbeat.bus.interface import (
    BatchHandler,
    Batching,
    Bus,
    BusConfig,
    Consumer,
    Delivery,
    Handler,
    LeaseGuard,
    Leases,
    Tap,
)
from backbeat.bus.keys import AUDIO_POOL, DEFAULT_GROUPS, Keys
from backbeat.bus.streams import StreamBus

__all__ = [
    "AUDIO_POOL",
    "DEFAULT_GROUPS",
    "BatchHandler",
    "Batching",
    "Bus",
    "BusConfig",
    "Consumer",
    "Delivery",
    "Handler",
    "Keys",
    "LatestState",
    "LeaseGuard",
    "Leases",
    "RecentIds",
    "StreamBus",
    "Tap",
    "bus_config",
    "create_bus",
    "memory_bus",
    "redis_bus",
]
