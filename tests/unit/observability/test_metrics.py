"""The seed's metrics exist once, in one registry, with bounded labels."""

from __future__ import annotations

from prometheus_client import generate_latest

from backbeat.observability import metrics

SEED_METRICS = {
    "discord_api_errors_total": "counter",
    "discord_operation_retries_total": "counter",
    "discord_operation_duration_seconds": "histogram",
    "track_plays_total": "counter",
    "queue_size": "gauge",
    "autoplay_triggers_total": "counter",
}


def families() -> dict[str, str]:
    return {family.name: family.type for family in metrics.REGISTRY.collect()}


def test_seed_metrics_are_registered_with_their_types() -> None:
    found = families()
    for name, kind in SEED_METRICS.items():
        family = name.removesuffix("_total") if kind == "counter" else name
        assert found.get(family) == kind, name


def test_no_label_carries_an_id() -> None:
    for family in metrics.REGISTRY.collect():
        for sample in family.samples:
            assert not {"guild_id", "user_id", "guild", "user"} & set(sample.labels), family.name


def test_exposition_renders_a_recorded_value() -> None:
    metrics.track_plays_total.labels(source="youtube", autoplay="false").inc()
    text = generate_latest(metrics.REGISTRY).decode()
    assert 'track_plays_total{autoplay="false",source="youtube"}' in text
