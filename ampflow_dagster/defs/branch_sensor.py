"""The branch sensor: a preview environment for each git branch [previews] names, made, kept current and torn down by itself.

Each tick reads the matching branches and their amplify/ and seed trees with two git processes (branches.py),
then, per branch: a new one is recorded, added as a partition and given a run of every asset; a branch whose
amplify/ tree differs from what its preview deployed gets a full run, one whose seed tree alone differs a
reseed. A preview whose branch is gone waits `keep_after_delete`, then the destroy job tears it down and
removes its partition. A preview's fingerprints are its trees: a tick over unchanged branches reads no file
and starts no Node.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg

from ampflow_dagster.branches import BranchTip, matching_branches
from ampflow_dagster.defs.partitions import ENVIRONMENTS, Blueprint
from ampflow_dagster.defs.records import FINGERPRINT_KEY, SEED_TREE_KEY, latest_metadata
from ampflow_dagster.defs.resources import AmplifyAppResource
from ampflow_dagster.defs.sensors import AUTOMATED_DEPLOYMENT, CHANGE_TAG, MAX_ATTEMPTS, TRIGGER_TAG, failed_attempts, run_in_progress
from ampflow_dagster.environments import AmpflowConfig, Environment
from ampflow_dagster.fingerprint import tree_fingerprint
from ampflow_dagster.names import BACKEND_DEPLOYMENT, DEPLOYMENT_CHAIN, DESTROY_JOB, RECONCILE_JOB
from ampflow_dagster.preview_registry import Preview, duration_text, save_preview

BRANCH_TAG = "ampflow/branch"
COMMIT_TAG = "ampflow/commit"
SENSOR_NAME = "preview_branch_sensor"


@dataclass
class Tick:
    """What one tick decided: partitions to add (new previews), runs to request, and a line per branch for the UI.

    It reads no partition: the change sensor's tick keeps the instance's partitions in line with the recorded
    previews (see register_environments), so a steady tick costs the git plumbing and little more.
    """

    added: list[str] = field(default_factory=list)
    runs: list[dg.RunRequest] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def result(self) -> dg.SensorResult:
        return dg.SensorResult(
            run_requests=self.runs,
            dynamic_partitions_requests=[dg.AddDynamicPartitionsRequest(ENVIRONMENTS, self.added)] if self.added else [],
            skip_reason=None if self.runs or self.added else "; ".join(self.notes) or "No branch matches [previews]",
        )


def build_branch_sensor(blueprint: Blueprint, jobs: list[Any]) -> dg.SensorDefinition:
    @dg.sensor(
        name=SENSOR_NAME,
        jobs=jobs,
        minimum_interval_seconds=30,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="[previews]: gives each matching git branch a preview environment (a partition) deployed and seeded from "
        "the branch tip, redeploys or reseeds it when the branch's amplify/ or seed tree changes, and tears it down "
        "keep_after_delete after the branch is gone.",
    )
    def preview_branch_sensor(context: dg.SensorEvaluationContext, amplify_app: AmplifyAppResource) -> dg.SensorResult | dg.SkipReason:
        config = amplify_app.config()
        if config.previews is None and not config.preview_environments:
            return dg.SkipReason("No [previews] in ampflow.toml: no branch gets a preview environment.")
        return preview_tick(context.instance, amplify_app, config, blueprint, time.time()).result()

    return preview_branch_sensor


def preview_tick(instance: dg.DagsterInstance, amplify_app: AmplifyAppResource, config: AmpflowConfig, blueprint: Blueprint,
                 now: float) -> Tick:
    settings = config.preview_settings  # [previews] removed: every preview's branch is gone
    project = amplify_app.project()
    tick = Tick()
    registered = {name: environment.preview for name, environment in config.preview_environments.items() if environment.preview}
    tips = {tip.environment: tip for tip in matching_branches(project.root, settings)}
    for name, tip in tips.items():
        if name in config.environments:
            tick.notes.append(f"{tip.branch}: its preview would be named {name}, a declared environment; rename one of them")
            continue
        preview = registered.get(name)
        if preview is None or preview.branch != tip.branch:
            preview = Preview(name, tip.branch, tip.commit, created=now)
            save_preview(project.state_dir, preview)
            tick.added.append(name)
            tick.runs.append(_run(preview, tip, _all_assets(blueprint), "new branch", deploy=True))
            tick.notes.append(f"{tip.branch}: new preview {name} at {tip.commit[:12]}")
            continue
        if preview.gone_since is not None:  # its branch is back: look at its history again
            preview = preview.moved_to(preview.commit)
            save_preview(project.state_dir, preview)
        _keep_current(instance, project.state_dir, config.environment(name), preview, tip, blueprint, tick)
    for name, preview in registered.items():
        if name not in tips and name not in config.environments:
            _tear_down_when_due(instance, project.state_dir, preview, settings.keep_after_delete_seconds, now, tick)
    return tick


def _keep_current(instance: dg.DagsterInstance, state_dir: Path, environment: Environment, preview: Preview, tip: BranchTip,
                  blueprint: Blueprint, tick: Tick) -> None:
    """A run for what of the preview its branch tip changed: everything for amplify/, the seeded assets for seeds."""
    name = preview.environment
    if preview.current_at == tip.commit:  # the common tick: nothing new on the branch since it was found current
        tick.notes.append(f"{tip.branch}: {name} is current at {tip.commit[:12]}")
        return
    busy = run_in_progress(instance, name)
    if busy:
        tick.notes.append(f"{tip.branch}: run {busy.run_id[:8]} of {name} is in progress; checking again after it")
        return
    if tip.amplify_tree is None:
        tick.notes.append(f"{tip.branch}: no amplify/ at {tip.commit[:12]}, nothing to deploy for {name}")
        return
    since = environment.history_since
    deployed = latest_metadata(instance, dg.AssetKey(BACKEND_DEPLOYMENT), name, since).get(FINGERPRINT_KEY)
    if deployed != tree_fingerprint(tip.amplify_tree, environment):
        stale, reason, deploy = _all_assets(blueprint), "amplify/ changed", True
    else:
        seeded = [asset for asset in blueprint.seeded_assets
                  if latest_metadata(instance, dg.AssetKey(asset), name, since).get(SEED_TREE_KEY) != (tip.seed_tree or "none")]
        stale, reason, deploy = seeded, "seed data changed", False
    if not stale:
        save_preview(state_dir, preview.current(tip.commit))
        tick.notes.append(f"{tip.branch}: {name} is current at {tip.commit[:12]}")
        return
    if preview.commit != tip.commit:
        save_preview(state_dir, preview.moved_to(tip.commit))  # the next run (and every step of it) builds this commit
    attempts = failed_attempts(instance, _change(preview, tip, deploy))
    if attempts >= MAX_ATTEMPTS:
        tick.notes.append(f"{tip.branch}: {name} failed {attempts} times at {tip.commit[:12]}; a new commit tries again")
        return
    tick.runs.append(_run(preview, tip, stale, reason, deploy, attempts))
    tick.notes.append(f"{tip.branch}: {reason} at {tip.commit[:12]} -> {', '.join(stale)} of {name}")


def _tear_down_when_due(instance: dg.DagsterInstance, state_dir: Path, preview: Preview, keep: int, now: float, tick: Tick) -> None:
    gone = preview.gone(now)
    if gone != preview:
        save_preview(state_dir, gone)
    assert gone.gone_since is not None
    left = gone.gone_since + keep - now
    if left > 0:
        tick.notes.append(f"{preview.branch} is gone: {preview.environment} is torn down in {duration_text(left)}")
        return
    if run_in_progress(instance, preview.environment):
        tick.notes.append(f"{preview.branch} is gone: {preview.environment} is torn down after its run in progress")
        return
    tick.runs.append(dg.RunRequest(
        run_key=f"{preview.environment}-{int(preview.created)}-teardown", job_name=DESTROY_JOB, partition_key=preview.environment,
        tags={BRANCH_TAG: preview.branch, COMMIT_TAG: preview.commit, TRIGGER_TAG: SENSOR_NAME},
    ))
    tick.notes.append(f"{preview.branch} is gone: tearing down {preview.environment}")


def _change(preview: Preview, tip: BranchTip, deploy: bool) -> str:
    """What a run brings the preview to: this preview (not an earlier one of its branch), this commit, deployed or reseeded."""
    return f"{preview.environment}-{int(preview.created)}-{tip.commit[:12]}-{'deploy' if deploy else 'seed'}"


def _run(preview: Preview, tip: BranchTip, assets: list[str], reason: str, deploy: bool, attempt: int = 0) -> dg.RunRequest:
    """A run of `assets` for the preview at the branch tip; a change whose runs keep failing is tried MAX_ATTEMPTS times."""
    change = _change(preview, tip, deploy)
    return dg.RunRequest(
        run_key=f"{change}-{attempt}",
        job_name=RECONCILE_JOB,
        partition_key=preview.environment,
        asset_selection=[dg.AssetKey(name) for name in assets],
        run_config=AUTOMATED_DEPLOYMENT if deploy else {},
        tags={BRANCH_TAG: tip.branch, COMMIT_TAG: tip.commit, TRIGGER_TAG: SENSOR_NAME, CHANGE_TAG: change, "ampflow/reason": reason},
    )


def _all_assets(blueprint: Blueprint) -> list[str]:
    return [*DEPLOYMENT_CHAIN, *blueprint.seeded_assets]
