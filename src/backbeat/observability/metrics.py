"""Every Prometheus metric Backbeat exports, defined once.

Modules import the metric objects from here; nothing else creates a metric. Label values
are bounded sets (operation names, channels, outcomes, partitions), never guild or user ids,
so a worker with ten thousand players keeps a small, fixed number of series.
"""

from __future__ import annotations

from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
)

REGISTRY = CollectorRegistry(auto_describe=True)
for _collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
    REGISTRY.register(_collector)

_LATENCY_BUCKETS = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)

# --- the seed's metrics -------------------------------------------------------------------

discord_api_errors_total = Counter(
    "discord_api_errors_total",
    "Discord API calls that failed, by operation and Discord error code or HTTP status.",
    ["operation", "code"],
    registry=REGISTRY,
)
discord_operation_retries_total = Counter(
    "discord_operation_retries_total",
    "Discord operations retried (rate limits, 5xx, gateway reconnects), by operation.",
    ["operation"],
    registry=REGISTRY,
)
discord_operation_duration_seconds = Histogram(
    "discord_operation_duration_seconds",
    "Wall time of Discord operations (interaction acks, message sends and edits), by operation.",
    ["operation"],
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
track_plays_total = Counter(
    "track_plays_total",
    "Tracks that started playing, by source (youtube, soundcloud, spotify, http…) and "
    "whether autoplay chose them.",
    ["source", "autoplay"],
    registry=REGISTRY,
)
queue_size = Gauge(
    "queue_size",
    "Tracks waiting in the queues of the guilds this process owns.",
    registry=REGISTRY,
)
autoplay_triggers_total = Counter(
    "autoplay_triggers_total",
    "Autoplay runs when a queue ended, by mode (similar, artist, genre, mixed) and outcome.",
    ["mode", "outcome"],
    registry=REGISTRY,
)

# --- the message bus ----------------------------------------------------------------------

bus_messages_published_total = Counter(
    "bus_messages_published_total",
    "Messages published, by channel.",
    ["channel"],
    registry=REGISTRY,
)
bus_messages_handled_total = Counter(
    "bus_messages_handled_total",
    "Messages a consumer finished with, by channel and outcome (ok, error, duplicate).",
    ["channel", "outcome"],
    registry=REGISTRY,
)
bus_messages_rejected_total = Counter(
    "bus_messages_rejected_total",
    "Messages that failed schema validation, by channel and reason "
    "(malformed, unknown_version, unknown_type).",
    ["channel", "reason"],
    registry=REGISTRY,
)
bus_messages_dead_lettered_total = Counter(
    "bus_messages_dead_lettered_total",
    "Messages moved to a dead-letter stream, by channel and reason.",
    ["channel", "reason"],
    registry=REGISTRY,
)
bus_messages_reclaimed_total = Counter(
    "bus_messages_reclaimed_total",
    "Pending messages taken over from a dead consumer (XCLAIM), by channel.",
    ["channel"],
    registry=REGISTRY,
)
bus_handle_duration_seconds = Histogram(
    "bus_handle_duration_seconds",
    "Time a consumer's handler spent on one message, by channel.",
    ["channel"],
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
#: Batch sizes (entries per batch, commands per transaction).
_BATCH_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500)
bus_batch_size = Histogram(
    "bus_batch_size",
    "Deliveries handed to a batch handler at once, by channel.",
    ["channel"],
    buckets=_BATCH_BUCKETS,
    registry=REGISTRY,
)
bus_delivery_latency_seconds = Histogram(
    "bus_delivery_latency_seconds",
    "Time from publish to the start of handling, by channel.",
    ["channel"],
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
bus_partitions_owned = Gauge(
    "bus_partitions_owned",
    "Partitions whose lease this process holds, by channel.",
    ["channel"],
    registry=REGISTRY,
)
bus_lease_changes_total = Counter(
    "bus_lease_changes_total",
    "Partition lease events, by event (acquired, renewed, lost, released).",
    ["event"],
    registry=REGISTRY,
)

# --- the database -------------------------------------------------------------------------

db_operation_duration_seconds = Histogram(
    "db_operation_duration_seconds",
    "Time of one repository operation (one transaction), by operation.",
    ["operation"],
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
db_operation_retries_total = Counter(
    "db_operation_retries_total",
    "Repository transactions retried after a serialisation failure or deadlock, by operation.",
    ["operation"],
    registry=REGISTRY,
)

# --- the audio service: command processor (audio/processor.py, audio/worker.py) -------------

audio_command_duration_seconds = Histogram(
    "audio_command_duration_seconds",
    "Time from taking a command to its reply, by command type and outcome (ok, refused, error).",
    ["command", "outcome"],
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
audio_batch_commands = Histogram(
    "audio_batch_commands",
    "State-changing commands committed by one batch transaction of the command processor.",
    buckets=_BATCH_BUCKETS,
    registry=REGISTRY,
)
audio_batch_fallbacks_total = Counter(
    "audio_batch_fallbacks_total",
    "Batch rounds of the command processor that failed as a whole (handed back one by one).",
    registry=REGISTRY,
)
audio_players = Gauge(
    "audio_players",
    "Guild players this audio process holds on Lavalink nodes.",
    registry=REGISTRY,
)
audio_players_playing = Gauge(
    "audio_players_playing",
    "Guild players of this audio process playing a track (paused ones included).",
    registry=REGISTRY,
)
lavalink_nodes = Gauge(
    "lavalink_nodes",
    "Lavalink nodes this audio process knows, by state (available, unavailable).",
    ["state"],
    registry=REGISTRY,
)

# --- the gateway (Discord face) -----------------------------------------------------------

gateway_interaction_ack_seconds = Histogram(
    "gateway_interaction_ack_seconds",
    "Time from receiving an interaction to its acknowledgement being accepted by Discord, "
    "by operation (command, component).",
    ["operation"],
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
gateway_shards_ready = Gauge(
    "gateway_shards_ready",
    "Shards of this gateway process that are connected and ready (or resumed).",
    registry=REGISTRY,
)
gateway_shards_total = Gauge(
    "gateway_shards_total",
    "Shards this gateway process runs.",
    registry=REGISTRY,
)
gateway_shard_latency_seconds = Gauge(
    "gateway_shard_latency_seconds",
    "Heartbeat round trip of each shard; the partition label is the shard id, which is the "
    "to-discord and ui:now partition it reads.",
    ["partition"],
    registry=REGISTRY,
)
gateway_ui_states_coalesced_total = Counter(
    "gateway_ui_states_coalesced_total",
    "Now-playing states replaced by a newer one before they were rendered.",
    registry=REGISTRY,
)

# --- search cache, URL-safety guard, playback failures (cache/search.py, net/, audio) -----

search_cache_lookups_total = Counter(
    "search_cache_lookups_total",
    "Search cache lookups, by outcome (hit, miss, error: the cache could not answer).",
    ["outcome"],
    registry=REGISTRY,
)
url_guard_refusals_total = Counter(
    "url_guard_refusals_total",
    "URLs and queries the URL-safety guard refused, by reason (scheme, blocked_address…).",
    ["reason"],
    registry=REGISTRY,
)
playback_failures_total = Counter(
    "playback_failures_total",
    "Track load and playback failures, by failure class as reason (unavailable, private, "
    "region_blocked, age_restricted, sign_in, network, rate_limited, decoding, unknown).",
    ["reason"],
    registry=REGISTRY,
)

# --- Lavalink nodes: health, resume, failover (audio/lavalink/failover.py) -----------------

lavalink_node_state = Gauge(
    "lavalink_node_state",
    "1 for each Lavalink node's current state (connecting, ready, resuming, down), else 0.",
    ["node", "state"],
    registry=REGISTRY,
)
lavalink_node_players = Gauge(
    "lavalink_node_players",
    "Guild players this audio process has on each Lavalink node.",
    ["node"],
    registry=REGISTRY,
)
lavalink_node_penalty = Gauge(
    "lavalink_node_penalty",
    "Each Lavalink node's load penalty from its last stats (0 before any).",
    ["node"],
    registry=REGISTRY,
)
lavalink_players_held = Gauge(
    "lavalink_players_held",
    "Guild players waiting for a Lavalink node (their node is gone and none could take them).",
    registry=REGISTRY,
)
lavalink_sessions_total = Counter(
    "lavalink_sessions_total",
    "Lavalink sessions opened, by node and result (resumed, new).",
    ["node", "result"],
    registry=REGISTRY,
)
lavalink_node_drops_total = Counter(
    "lavalink_node_drops_total",
    "Dropped WebSocket connections to Lavalink nodes, by node.",
    ["node"],
    registry=REGISTRY,
)
lavalink_player_moves_total = Counter(
    "lavalink_player_moves_total",
    "Guild players moved to (or re-created on) a Lavalink node, by reason (failover, "
    "lost_session, restored).",
    ["reason"],
    registry=REGISTRY,
)

# -- control panel (backbeat.panel) ------------------------------------------------------------
panel_logins_total = Counter(
    "panel_logins_total",
    "Panel logins by outcome (ok, invalid_state, other_browser, expired, denied, refused, "
    "unavailable, rate_limited).",
    ["outcome"],
    registry=REGISTRY,
)
panel_access_refused_total = Counter(
    "panel_access_refused_total",
    "Panel requests refused with 403, by reason (not_manager, not_member, permission_gone, "
    "bot_absent, csrf, origin).",
    ["reason"],
    registry=REGISTRY,
)

# -- gateway commands: permission refusals, identify pacing (gateway/gate.py, identify.py) -----
gateway_command_refusals_total = Counter(
    "gateway_command_refusals_total",
    "Commands and clicks refused by the permission rules before anything was published, by "
    "reason (not_in_voice, other_channel, dj_only, vote_instead, managers_only).",
    ["reason"],
    registry=REGISTRY,
)
gateway_identify_wait_seconds_total = Counter(
    "gateway_identify_wait_seconds_total",
    "Seconds shards waited for their concurrency bucket's identify lease.",
    registry=REGISTRY,
)
