"""docs/benchmarks.md from a run's results."""

from __future__ import annotations

import os
import platform
from datetime import datetime, timezone
from pathlib import Path

from benchmarks.common import Result


def write_markdown(path: str, results: list[Result], size: str, elapsed: float) -> None:
    lines = [
        "# Benchmarks",
        "",
        "Each benchmark measures its baseline in the same run, on the same machine, and reports",
        "the ratio: the figures move with the machine's load, the ratios much less.",
        "",
        "Reproduce (installs everything first, about 15 minutes at full size):",
        "",
        "```",
        "./scripts/benchmark --markdown docs/benchmarks.md",
        "```",
        "",
        f"Latest run: {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, size `{size}`, {elapsed / 60:.1f} minutes, "
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}.",
        "",
        "## Targets",
        "",
        "| benchmark | ratio | target | met |",
        "|---|---|---|---|",
    ]
    for result in results:
        for ratio in result.ratios:
            if ratio.target is not None:
                sign = "≥" if ratio.at_least else "≤"
                lines.append(f"| {result.name} | {ratio.label}: **{ratio.value:.2f}×** | {sign} {ratio.target:g}× | "
                             f"{'yes' if ratio.met else '**no**'} |")
    for result in results:
        lines += ["", f"## {result.title}", "", "| | |", "|---|---|"]
        lines += [f"| {label} | {value} |" for label, value in result.figures]
        lines += [f"| **{ratio.label}** | **{ratio.value:.2f}×** |" for ratio in result.ratios]
    notes = Path(__file__).with_name("NOTES.md")
    if notes.is_file():
        lines += ["", notes.read_text(encoding="utf-8").strip()]
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")
