"""From a branch's creation to its preview deployed and seeded on `local`, beside `ampflow dev` from a cold cache.

The sample app as a git repository with [previews]. The baseline is `ampflow dev` in a fresh copy (no
synthesis cached, no emulator running): synthesis, tables, seed items, client. ampflow's figure starts
when `git branch` creates a branch whose commit changes amplify/ (so its synthesis is not cached either),
with the emulator stopped, and ends when the preview is deployed and seeded: a new process, as the daemon
and its run worker are, evaluates the branch sensor and runs what it requests (worktree, synthesis at the
branch's commit, tables, seed items, client). Both are whole processes, timed alternately.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from ampflow_dagster.branches import preview_environment
from ampflow_dagster.targets.emulator import EmbeddedEmulator

from benchmarks.common import Ratio, Result, copy_app, environment_without_aws_endpoints, seconds, temporary_directory, timed

PREVIEWS = '\n[previews]\nbranches = ["feature/*"]\n'


def run(size: dict[str, int]) -> list[Result]:
    repeats = 3 if size["repeats"] > 1 else 1
    result = Result("preview_creation", "A branch's creation to its preview deployed and seeded, beside a cold `ampflow dev`")
    print(f"\n{result.title}", flush=True)
    ampflow = str(Path(sys.executable).with_name("ampflow"))
    ours, baseline = [], []
    with temporary_directory("previews") as directory:
        for number in range(repeats):
            cold = copy_app(directory / f"cold-{number}")
            shutil.rmtree(cold.state_dir / "synth", ignore_errors=True)
            environment = {**environment_without_aws_endpoints(), "DAGSTER_HOME": str(cold.root / "dagster_home")}
            try:
                baseline.append(timed(lambda: subprocess.run([ampflow, "dev"], cwd=cold.root, env=environment, check=True,
                                                             capture_output=True, text=True))[0])
            finally:
                EmbeddedEmulator(cold.state_dir / "emulator").stop()
            ours.append(preview_seconds(directory / f"branched-{number}", number))
    result.figure("ampflow dev, fresh copy, cold synthesis cache and emulator", f"{seconds(median(baseline))} (median of {repeats})")
    result.figure("git branch → its preview deployed and seeded (sensor tick + its run)", f"{seconds(median(ours))} (median of {repeats})")
    result.ratio(Ratio("preview creation / cold ampflow dev", median(ours) / median(baseline), target=1.3, at_least=False))
    return [result]


def preview_seconds(folder: Path, number: int) -> float:
    """The sample app as a repository with [previews]; then one branch, timed until its preview is deployed and seeded."""
    project = copy_app(folder)
    project.config_file.write_text(project.config_file.read_text() + PREVIEWS)
    (project.root / ".gitignore").write_text("node_modules\n.ampflow/\ndagster_home/\nclients/\n")
    git(project.root, "init", "-q", "-b", "main")
    git(project.root, "add", "-A")
    git(project.root, "commit", "-q", "-m", "the app")
    branch = f"feature/bench-{number}"
    worktree = folder.parent / f"edit-{number}"
    git(project.root, "worktree", "add", "-q", "-b", f"prepared-{number}", str(worktree))
    resource = worktree / "amplify" / "data" / "resource.ts"
    resource.write_text(resource.read_text() + f"\n// branch {number}\n")  # a new amplify/ tree: nothing cached for it
    git(worktree, "commit", "-q", "-am", "a change")
    commit = git(worktree, "rev-parse", "HEAD")
    git(project.root, "worktree", "remove", str(worktree))
    environment = {**environment_without_aws_endpoints(), "DAGSTER_HOME": str(project.root / "dagster_home"),
                   "AMPFLOW_PROJECT_ROOT": str(project.root)}
    try:
        started = time.perf_counter()
        git(project.root, "branch", branch, commit)
        subprocess.run([sys.executable, "-m", "benchmarks.preview_creation", str(project.root)], env=environment, check=True,
                       capture_output=True, text=True, cwd=Path(__file__).resolve().parent.parent)
        elapsed = time.perf_counter() - started
        seeded = project.client_dir(preview_environment(branch)) / "amplify_outputs.json"
        assert seeded.is_file(), f"no client for the preview of {branch}"
        return elapsed
    finally:
        EmbeddedEmulator(project.state_dir / "emulator").stop()


def tick_and_run(root: Path) -> None:
    """What the daemon and its run worker do for a new branch: one tick of the branch sensor, then each run it asks for."""
    import dagster as dg

    from ampflow_dagster.definitions import build_defs
    from ampflow_dagster.defs.resources import AmplifyAppResource
    from ampflow_dagster.project import Project

    instance = dg.DagsterInstance.get()
    definitions = build_defs(Project(root))
    sensor = definitions.get_sensor_def("preview_branch_sensor")
    context = dg.build_sensor_context(instance=instance, instance_ref=instance.get_ref(), definitions=definitions,
                                      resources={"amplify_app": AmplifyAppResource(project_root=str(root))})
    data = sensor.evaluate_tick(context)
    for request in data.dynamic_partitions_requests or []:
        if isinstance(request, dg.AddDynamicPartitionsRequest):
            instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
    assert data.run_requests, data.skip_message
    for request in data.run_requests:
        result = definitions.resolve_job_def(request.job_name).execute_in_process(
            instance=instance, partition_key=request.partition_key, run_config=request.run_config, tags=request.tags,
            asset_selection=request.asset_selection, raise_on_error=True,
        )
        assert result.success


def git(root: Path, *arguments: str) -> str:
    done = subprocess.run(["git", "-c", "user.name=b", "-c", "user.email=b@example.com", *arguments], cwd=root, check=True,
                          capture_output=True, text=True)
    return done.stdout.strip()


def median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


if __name__ == "__main__":
    os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")
    tick_and_run(Path(sys.argv[1]))
