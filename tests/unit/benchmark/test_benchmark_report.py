"""The ``backbeat bench`` report: percentiles, one row per measure beside its seed and
target, JSON with every field; the command is registered; the progress bar moves."""

from __future__ import annotations

import io
import json
from pathlib import Path

from backbeat.benchmark.progress import Progress
from backbeat.benchmark.report import Measure, Report, percentile
from backbeat.cli import all_commands, build_parser


def test_percentile_is_nearest_rank_and_zero_when_empty() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.50) == 51.0
    assert percentile(values, 0.99) == 100.0
    assert percentile([], 0.5) == 0.0


def test_report_writes_markdown_and_json_with_seed_target_and_limit(tmp_path: Path) -> None:
    report = Report("quick", {"bus": "Redis"})
    report.measures.append(
        Measure.latency(
            "interaction acknowledgement, idle",
            [1.0, 2.0, 3.0, 40.0],
            seed="< 100 ms",
            target="p99 < 10 ms",
            limited_by="the event loop",
        )
    )
    report.measures.append(
        Measure("commands/s", "commands/s", "~50–100", "≥ 2,000", "SQL", value=812.5, notes="mix")
    )
    md, js = report.write(tmp_path, "backbeat_bench.quick")
    text = md.read_text(encoding="utf-8")
    assert (
        "| interaction acknowledgement, idle | p50 3 / p99 40 ms (n=4) | < 100 ms | "
        "p99 < 10 ms | the event loop |" in text
    )
    assert "| commands/s | 812.5 commands/s | ~50–100 | ≥ 2,000 | SQL |" in text
    assert "- **commands/s**: mix" in text
    data = json.loads(js.read_text(encoding="utf-8"))
    assert data["mode"] == "quick"
    first, second = data["measures"]
    assert (first["p50"], first["p99"], first["samples"], first["value"]) == (3.0, 40.0, 4, None)
    assert second["value"] == 812.5
    assert set(first) == {
        "name",
        "unit",
        "seed",
        "target",
        "limited_by",
        "value",
        "p50",
        "p99",
        "samples",
        "notes",
    }


def test_bench_is_a_backbeat_command() -> None:
    parser = build_parser(all_commands())
    args = parser.parse_args(["bench", "--quick", "--redis-url", "redis://x:1/0"])
    assert args.quick is True
    assert args.redis_url == "redis://x:1/0"


def test_progress_shows_each_phase_and_its_count() -> None:
    out = io.StringIO()
    progress = Progress(out, phases=2)
    progress.step("first", 4)
    progress.advance(4)
    progress.step("second", 1)
    progress.close()
    text = out.getvalue()
    assert "[1/2] first" in text
    assert "4/4" in text
    assert "[2/2] second" in text
    assert "done in" in text
