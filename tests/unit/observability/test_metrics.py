"""Every metric exists once, in one registry, with label names from a bounded vocabulary.

Label names are checked as DECLARED on the metric objects, not on recorded samples: a
metric that gained a ``guild_id`` label fails here even before anything recorded a value.
"""

from __future__ import annotations

import ast
from pathlib import Path

import prometheus_client
from prometheus_client import generate_latest
from prometheus_client.metrics import MetricWrapperBase

from backbeat.observability import metrics

SEED_METRICS = {
    "discord_api_errors_total": "counter",
    "discord_operation_retries_total": "counter",
    "discord_operation_duration_seconds": "histogram",
    "track_plays_total": "counter",
    "queue_size": "gauge",
    "autoplay_triggers_total": "counter",
}

#: Label names whose values come from small fixed sets (names of operations, channels,
#: outcomes, partitions…). A new label name must be added here with the set it draws from;
#: ids (guild, user, message, track…) never are: each would add a series per id.
ALLOWED_LABELS = {
    "operation": "a repository or Discord operation name",
    "code": "a Discord error code or HTTP status",
    "source": "a track source (youtube, soundcloud, http…)",
    "autoplay": "true or false",
    "mode": "an autoplay mode",
    "outcome": "a fixed outcome name (ok, error, duplicate, stale…)",
    "channel": "a bus channel",
    "reason": "a fixed rejection or dead-letter reason",
    "event": "a lease event (acquired, renewed, lost, released)",
    "partition": "a bus partition number (bounded by BUS_PARTITIONS)",
    "command": "a command type of discord-bot:commands",
    "state": "a fixed state name (available, unavailable; connecting, ready, resuming, down)",
    "node": "a Lavalink node name, one per node in the settings",
    "result": "a fixed result name (resumed, new)",
}

#: Words that betray an unbounded label, whatever else the name says.
UNBOUNDED_WORDS = ("id", "guild", "user", "member", "message", "track", "query", "url", "token")

_PROMETHEUS_METRIC_TYPES = {"Counter", "Gauge", "Histogram", "Summary", "Info", "Enum"}
_SOURCE = Path(metrics.__file__).resolve().parent.parent


def declared_metrics() -> dict[str, MetricWrapperBase]:
    """The metric objects defined in ``backbeat.observability.metrics``, by attribute name."""
    return {
        name: value for name, value in vars(metrics).items() if isinstance(value, MetricWrapperBase)
    }


def registered_collectors() -> dict[object, list[str]]:
    return dict(metrics.REGISTRY._collector_to_names)  # type: ignore[attr-defined]


def families() -> dict[str, str]:
    return {family.name: family.type for family in metrics.REGISTRY.collect()}


def test_seed_metrics_are_registered_with_their_types() -> None:
    found = families()
    for name, kind in SEED_METRICS.items():
        family = name.removesuffix("_total") if kind == "counter" else name
        assert found.get(family) == kind, name


def test_the_module_defines_metrics() -> None:
    # Guards the checks below against passing on an empty set.
    assert len(declared_metrics()) >= len(SEED_METRICS)


def test_declared_label_names_are_bounded() -> None:
    for name, metric in declared_metrics().items():
        labels = set(metric._labelnames)
        assert labels <= ALLOWED_LABELS.keys(), (
            f"{name} declares labels {sorted(labels - ALLOWED_LABELS.keys())} outside the "
            "bounded vocabulary (ALLOWED_LABELS); ids must never be label values"
        )


def test_the_allowlist_itself_holds_no_id() -> None:
    for label in ALLOWED_LABELS:
        words = label.split("_")
        assert not set(words) & set(UNBOUNDED_WORDS), label


def test_no_recorded_sample_carries_an_id() -> None:
    for family in metrics.REGISTRY.collect():
        for sample in family.samples:
            for label in sample.labels:
                assert not set(label.split("_")) & set(UNBOUNDED_WORDS), (family.name, label)


def test_every_metric_is_registered_once_in_the_backbeat_registry() -> None:
    collectors = registered_collectors()
    default = prometheus_client.REGISTRY._collector_to_names  # type: ignore[attr-defined]
    for name, metric in declared_metrics().items():
        assert metric in collectors, f"{name} is not in backbeat's REGISTRY"
        assert metric not in default, f"{name} is also in prometheus_client's default registry"
    objects = list(declared_metrics().values())
    assert len({id(metric) for metric in objects}) == len(objects), "one object, two names"
    exported = [name for names in collectors.values() for name in names]
    assert len(exported) == len(set(exported)), "a series name is exported twice"


def test_every_registered_metric_is_defined_in_the_metrics_module() -> None:
    declared = {id(metric) for metric in declared_metrics().values()}
    for collector in registered_collectors():
        if isinstance(collector, MetricWrapperBase):
            assert id(collector) in declared, collector._name


def test_no_other_module_creates_a_metric() -> None:
    offenders: list[str] = []
    for path in sorted(_SOURCE.rglob("*.py")):
        if path.resolve() == Path(metrics.__file__).resolve():
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                "prometheus_client"
            ):
                made = {alias.name for alias in node.names} & _PROMETHEUS_METRIC_TYPES
                if made:
                    offenders.append(f"{path.relative_to(_SOURCE)} imports {sorted(made)}")
    assert not offenders, offenders


def test_exposition_renders_a_recorded_value() -> None:
    metrics.track_plays_total.labels(source="youtube", autoplay="false").inc()
    text = generate_latest(metrics.REGISTRY).decode()
    assert 'track_plays_total{autoplay="false",source="youtube"}' in text
