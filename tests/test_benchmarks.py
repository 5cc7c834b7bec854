"""The benchmark suite runs end to end at its small size (its figures are not judged here: shared machines are noisy)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from benchmarks.common import Ratio, Result
from benchmarks.report import write_markdown

REPOSITORY = Path(__file__).resolve().parent.parent


def test_the_benchmark_suite_runs_at_small_size(tmp_path: Path) -> None:
    report = tmp_path / "benchmarks.md"
    finished = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--size", "small", "--markdown", str(report)],
        cwd=REPOSITORY, capture_output=True, text=True, timeout=900,
    )
    assert finished.returncode == 0, finished.stdout + finished.stderr
    for title in ("Change detection", "Seeding 500", "with 20 ms", "peak memory", "`ampflow dev` when everything", "Verifying 10 tables",
                  "The local GraphQL endpoint", "Subscriptions and JS handlers",
                  "The branch sensor's tick over 10 current previews", "its preview deployed and seeded"):
        assert title in finished.stdout, f"{title!r} missing from:\n{finished.stdout}"
    text = report.read_text()
    assert "| benchmark | ratio | target | met |" in text and "./scripts/benchmark --markdown docs/benchmarks.md" in text
    # every benchmark reports a ratio to its baseline
    assert text.count("×**") >= 8


def test_a_ratio_knows_whether_its_target_is_met() -> None:
    assert Ratio("faster", 16.0, 15).met and not Ratio("faster", 14.0, 15).met
    assert Ratio("smaller", 0.2, 0.25, at_least=False).met and not Ratio("smaller", 0.3, 0.25, at_least=False).met
    assert Ratio("reported", 3.0).met is None


def test_informational_ratios_are_reported_apart_from_the_targets_and_never_judged(tmp_path: Path) -> None:
    result = Result("seeding", "Seeding")
    result.ratio(Ratio("ampflow vs batch_writer, loopback", 1.3, 1.2))
    result.ratio(Ratio("ampflow vs naive loop, loopback", 9.0, informational="bounded by the emulator's CPU"))
    result.ratio(Ratio("batch_writer 20 ms away / batch_writer on loopback", 2.9))
    assert [ratio.met for ratio in result.ratios] == [True, None, None]
    report = tmp_path / "benchmarks.md"
    write_markdown(str(report), [result], "small", 1.0)
    text = report.read_text()
    targets = text[text.index("## Targets"):text.index("## Informational ratios")]
    informational = text[text.index("## Informational ratios"):text.index("## Seeding")]
    assert "| seeding | ampflow vs batch_writer, loopback: **1.30×** | ≥ 1.2× | yes |" in targets
    assert "naive loop" not in targets and "batch_writer 20 ms away" not in targets
    assert "| seeding | ampflow vs naive loop, loopback: 9.00× | bounded by the emulator's CPU |" in informational
    assert "| ampflow vs naive loop, loopback (informational) | 9.00× |" in text
