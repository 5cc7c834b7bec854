"""The sensor's change detection on a large unchanged amplify/ tree, beside `git status --porcelain`."""

from __future__ import annotations

import os
import statistics
import subprocess
import time
from pathlib import Path

from ampflow_dagster.environments import load_config
from ampflow_dagster.fingerprint import amplify_fingerprint, digest_cache
from ampflow_dagster.project import Project
from ampflow_dagster.seeding.seed_files import seeded_models
from ampflow_dagster.staleness import current_fingerprints

from benchmarks.common import REPOSITORY, Ratio, Result, median_time, seconds, temporary_directory

FILES_PER_DIRECTORY = 100
GIT = ["git", "-c", "user.name=ampflow", "-c", "user.email=bench@ampflow.invalid"]


def run(size: dict[str, int]) -> list[Result]:
    count = size["files"]
    result = Result("change_detection", f"Change detection on an unchanged amplify/ of {count:,} files (and a node_modules/ of as many)")
    print(f"\n{result.title}", flush=True)
    repeats = max(5, size["repeats"] * 4)
    with temporary_directory("tree") as root:
        build_tree(root, count)
        project = Project(root)
        models = seeded_models(project)
        environments = [e for e in load_config(project).environments.values() if e.automated_deploys]

        def sensor_check() -> None:
            """What one sensor tick reads from disk: amplify/ once, each automated environment's seed files."""
            cache = digest_cache(project)
            for environment in environments:
                current_fingerprints(project, environment, models, cache)
            cache.save()

        sensor_check()  # the first tick hashes every file; later ticks only stat them
        time.sleep(2.1)  # past the racy window, as on any real tick
        sensor_check()

        def git_status() -> None:
            subprocess.run(["git", "status", "--porcelain"], cwd=root, check=True, stdout=subprocess.DEVNULL)

        git_status()
        ours_times, git_times = [], []
        for _ in range(repeats):  # alternating, so both see the same machine
            ours_times.append(median_time(sensor_check, 1))
            git_times.append(median_time(git_status, 1))
        ours, git = statistics.median(ours_times), statistics.median(git_times)
        result.figure("git status --porcelain (process included)", f"{seconds(git)} (median of {repeats})")
        result.figure("ampflow sensor check, stat-cached (in the code server's process)", f"{seconds(ours)} (median of {repeats})")
        result.ratio(Ratio("ampflow / git status", ours / git, 2.0, at_least=False))

        result.figure("files re-hashed after editing one file", f"{hashed_after_edit(project)}")
    return [result]


def hashed_after_edit(project: Project) -> int:
    edited = project.amplify_dir / "module-0001" / "file-0001.ts"
    fingerprint_before = amplify_fingerprint(project)
    edited.write_text(edited.read_text() + "// edited again\n")
    os.utime(edited, ns=(time.time_ns() - 5_000_000_000,) * 2)
    cache = digest_cache(project)
    changed = amplify_fingerprint(project, cache)
    assert changed != fingerprint_before, "an edit must change the fingerprint"
    assert cache.hashed == 1, f"one edited file re-hashed {cache.hashed} files"
    return cache.hashed


def build_tree(root: Path, count: int) -> None:
    """An app whose amplify/ holds `count` source files, and an amplify/node_modules of as many, all committed to git."""
    for name in ("package.json", "ampflow.toml"):
        (root / name).write_bytes((REPOSITORY / name).read_bytes())
    for folder, extension, total in (("amplify", "ts", count), ("amplify/node_modules", "js", count)):
        for number in range(total):
            directory = root / folder / f"module-{number // FILES_PER_DIRECTORY:04d}"
            if number % FILES_PER_DIRECTORY == 0:
                directory.mkdir(parents=True, exist_ok=True)
            (directory / f"file-{number % FILES_PER_DIRECTORY:04d}.{extension}").write_text(
                f"export const value{number} = {number};\n" * 8
            )
    (root / ".gitignore").write_text("node_modules/\n.ampflow/\n")
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    subprocess.run([*GIT, "commit", "-q", "-m", "tree"], cwd=root, check=True)
    old = time.time_ns() - 10_000_000_000  # every file older than both tools' racy windows
    for directory, _, files in os.walk(root / "amplify"):
        for name in files:
            os.utime(os.path.join(directory, name), ns=(old, old))
