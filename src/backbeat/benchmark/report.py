"""The benchmark report: one :class:`Measure` per figure, written as Markdown and JSON,
each beside the seed's figure and the target of design.md section 8."""

from __future__ import annotations

import json
import platform
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


def percentile(values: list[float], fraction: float) -> float:
    """The ``fraction`` quantile (nearest rank) of ``values``; 0 when empty."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


@dataclass
class Measure:
    """One figure: either ``value`` or ``p50``/``p99`` (with ``samples``)."""

    name: str
    unit: str
    seed: str
    target: str
    limited_by: str
    value: float | None = None
    p50: float | None = None
    p99: float | None = None
    samples: int = 0
    notes: str = ""

    @classmethod
    def latency(
        cls, name: str, values_ms: list[float], *, seed: str, target: str, limited_by: str
    ) -> Measure:
        return cls(
            name,
            "ms",
            seed,
            target,
            limited_by,
            p50=round(percentile(values_ms, 0.50), 3),
            p99=round(percentile(values_ms, 0.99), 3),
            samples=len(values_ms),
        )

    def figure(self) -> str:
        if self.value is not None:
            return f"{self.value:g} {self.unit}"
        return f"p50 {self.p50:g} / p99 {self.p99:g} {self.unit} (n={self.samples})"


@dataclass
class Report:
    mode: str
    setup: dict[str, Any]
    measures: list[Measure] = field(default_factory=list)
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "seconds": round(self.seconds, 1),
            "machine": {
                "python": platform.python_version(),
                "platform": platform.platform(),
                "processor": platform.processor() or platform.machine(),
            },
            "setup": self.setup,
            "measures": [asdict(m) for m in self.measures],
        }

    def to_markdown(self) -> str:
        lines = [
            f"# `backbeat bench` ({self.mode})",
            "",
            f"Ran {self.seconds:.0f} s on {platform.platform()}, Python "
            f"{platform.python_version()}. Set-up: "
            + "; ".join(f"{k}: {v}" for k, v in self.setup.items())
            + ".",
            "",
            "| measure | figure | seed | target | limited by |",
            "|---|---|---|---|---|",
        ]
        for m in self.measures:
            lines.append(f"| {m.name} | {m.figure()} | {m.seed} | {m.target} | {m.limited_by} |")
        notes = [m for m in self.measures if m.notes]
        if notes:
            lines += ["", "## Notes", ""]
            lines += [f"- **{m.name}**: {m.notes}" for m in notes]
        return "\n".join(lines) + "\n"

    def write(self, directory: Path, stem: str = "backbeat_bench") -> tuple[Path, Path]:
        directory.mkdir(parents=True, exist_ok=True)
        md, js = directory / f"{stem}.md", directory / f"{stem}.json"
        md.write_text(self.to_markdown(), encoding="utf-8")
        js.write_text(json.dumps(self.to_json(), indent=2) + "\n", encoding="utf-8")
        return md, js
