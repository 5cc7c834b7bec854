"""ampflow's benchmarks: each measures its baseline in the same run and reports the ratio.

Run them with `./scripts/benchmark` (full size) or `./scripts/benchmark --size small`.
"""
