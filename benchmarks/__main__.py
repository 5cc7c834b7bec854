"""`python -m benchmarks [--size full|small] [--only NAME ...] [--markdown FILE]`: run, print, optionally write the report."""

from __future__ import annotations

import argparse
import importlib
import platform
import sys
import time

from benchmarks.common import SIZES, Result
from benchmarks.report import write_markdown

BENCHMARKS = (
    "change_detection", "seeding", "reseed_cost", "memory", "noop_workflow", "verification", "local_api", "realtime", "branch_tick",
    "preview_creation",
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="benchmarks", description="ampflow's benchmarks, each beside its baseline.")
    parser.add_argument("--size", choices=sorted(SIZES), default="full")
    parser.add_argument("--only", nargs="*", choices=BENCHMARKS, default=list(BENCHMARKS))
    parser.add_argument("--markdown", help="write the results as markdown to this file (docs/benchmarks.md)")
    parser.add_argument("--check-targets", action="store_true", help="exit 1 if a target is missed")
    arguments = parser.parse_args(argv)
    size = SIZES[arguments.size]
    started = time.perf_counter()
    results: list[Result] = []
    for name in arguments.only:
        module = importlib.import_module(f"benchmarks.{name}")
        results.extend(module.run(size))
    elapsed = time.perf_counter() - started
    print(f"\n{len(results)} benchmark(s), size {arguments.size}, in {elapsed:.0f} s on {platform.node() or 'this machine'}")
    missed = [ratio for result in results for ratio in result.ratios if ratio.met is False]
    for ratio in missed:
        print(f"  MISSED {ratio.text()}")
    if arguments.markdown:
        write_markdown(arguments.markdown, results, arguments.size, elapsed)
        print(f"Wrote {arguments.markdown}")
    return 1 if missed and arguments.check_targets else 0


if __name__ == "__main__":
    sys.exit(main())
