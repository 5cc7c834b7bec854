"""docs/benchmarks.md from a run's results."""

from __future__ import annotations

import os
import platform
from datetime import datetime, timezone
from pathlib import Path

from benchmarks.common import Ratio, Result


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
        "What ampflow itself must achieve; `--check-targets` fails when one is missed.",
        "",
        "| benchmark | ratio | target | met |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {result.name} | {ratio.label}: **{ratio.value:.2f}×** | {ratio.goal} | {'yes' if ratio.met else '**no**'} |"
        for result, ratio in _ratios(results) if ratio.target is not None
    ]
    informational = [(result, ratio) for result, ratio in _ratios(results) if ratio.informational]
    if informational:
        lines += [
            "",
            "## Informational ratios (not targets)",
            "",
            "Reported so the figures stay comparable from run to run, but not judged: what bounds them on this",
            "machine is the emulator, not ampflow.",
            "",
            "| benchmark | ratio | why it is not a target |",
            "|---|---|---|",
        ]
        lines += [f"| {result.name} | {ratio.label}: {ratio.value:.2f}× | {ratio.informational} |" for result, ratio in informational]
    for result in results:
        lines += ["", f"## {result.title}", "", "| | |", "|---|---|"]
        lines += [f"| {label} | {value} |" for label, value in result.figures]
        lines += [_ratio_row(ratio) for ratio in result.ratios]
    notes = Path(__file__).with_name("NOTES.md")
    if notes.is_file():
        lines += ["", notes.read_text(encoding="utf-8").strip()]
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")


def _ratios(results: list[Result]) -> list[tuple[Result, Ratio]]:
    return [(result, ratio) for result in results for ratio in result.ratios]


def _ratio_row(ratio: Ratio) -> str:
    if ratio.informational:
        return f"| {ratio.label} (informational) | {ratio.value:.2f}× |"
    goal = f" (target {ratio.goal})" if ratio.target is not None else ""
    return f"| **{ratio.label}**{goal} | **{ratio.value:.2f}×** |"
