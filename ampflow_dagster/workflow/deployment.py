"""The deployment step: deploy an environment unless it is current, after a plan that is guarded and backed up."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field

from ampflow_dagster.planning import PlannedChange, back_up_tables, guard_destructive_changes, plan_text
from ampflow_dagster.staleness import DeployedState
from ampflow_dagster.synthesis.desired_state import DesiredBackend
from ampflow_dagster.targets.base import DeploymentReport, DeployTarget
from ampflow_dagster.workflow.workspace import EnvironmentWorkspace
from ampflow_dagster.progress import Log



@dataclass
class DeploymentOutcome:
    fingerprint: str
    template_hash: str
    skipped: bool
    reason: str
    model_versions: dict[str, str]
    report: DeploymentReport = field(default_factory=DeploymentReport)
    drift: list[str] = field(default_factory=list)
    plan: list[PlannedChange] = field(default_factory=list)
    backups: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    other_stacks: str = ""  # root stacks beside the backend's, and what this target does with them


def other_stacks_text(desired: DesiredBackend, target: DeployTarget) -> str:
    if not desired.other_stacks:
        return ""
    return f"{', '.join(desired.other_stacks)}: " + (target.other_stacks_note or "deployed with the backend by ampx")


def deploy_backend(
    workspace: EnvironmentWorkspace,
    *,
    deployed: DeployedState,
    force: bool,
    allow_destructive: bool,
    automated: bool = False,
    log: Log,
) -> DeploymentOutcome:
    """Deploy unless the last deployment had this fingerprint and the live tables still match."""
    started = time.monotonic()
    fingerprint = workspace.fingerprint()
    desired = workspace.desired()
    drift: list[str] = []
    name = workspace.environment.name
    if not force and deployed.fingerprint == fingerprint:
        with workspace.aws_failures("Comparing the live tables with amplify/", f"ampflow deploy {name}"):
            drift = workspace.target.drift(desired)
        if not drift:
            workspace.target.serve(desired, log)  # after a restart of the machine or the emulator, say
            return DeploymentOutcome(
                fingerprint, desired.template_hash(), skipped=True,
                reason=f"amplify/ unchanged since the last deployment ({fingerprint}) and every table matches",
                model_versions=_model_versions(desired, deployed, None),
                seconds=time.monotonic() - started, other_stacks=other_stacks_text(desired, workspace.target),
            )
        reason = "amplify/ unchanged, but the live tables drifted: " + "; ".join(drift[:5])
    elif force:
        reason = "forced: a clean deployment was requested"
    elif deployed.fingerprint is None:
        reason = "first deployment of this environment"
    else:
        reason = f"amplify/ changed ({deployed.fingerprint} -> {fingerprint})"
    log(f"Deploying {workspace.environment.name}: {reason}")
    if desired.other_stacks:
        log(f"Other stacks of amplify/backend.ts: {other_stacks_text(desired, workspace.target)}")
    target = workspace.target
    with workspace.exclusive(), workspace.aws_failures(f"Deploying to {target.kind} target", f"ampflow deploy {name}"):
        target.preflight(log)
        # A plan that could not be read stops the deployment here, before anything is backed up or changed.
        with workspace.aws_failures("Planning the deployment (reading the stack and its live tables)", f"ampflow deploy {name}"):
            plan = target.plan(desired, force=force)
        log("Plan:\n" + plan_text(plan))
        losing = guard_destructive_changes(
            plan, workspace.environment, allow_destructive=allow_destructive, automated=automated
        )
        backups = back_up_tables(target.dynamodb_client(), losing, workspace.environment, target.aws_place()) if losing else {}
        for table, backup in backups.items():
            log(f"Backed up {table}: {backup}")
        report = target.deploy(desired, plan, log=log)
        target.serve(desired, log)
    return DeploymentOutcome(
        fingerprint, desired.template_hash(), skipped=False, reason=reason,
        model_versions=_model_versions(desired, deployed, report), report=report, drift=drift,
        plan=plan, backups=backups, seconds=time.monotonic() - started,
        other_stacks=other_stacks_text(desired, target),
    )


def plan_deployment(workspace: EnvironmentWorkspace, *, force: bool = False) -> list[PlannedChange]:
    """`ampflow plan`: what deploying now would do, changing nothing."""
    desired = workspace.desired()
    with workspace.aws_failures("Planning the deployment", f"ampflow plan {workspace.environment.name}"):
        workspace.target.preflight(lambda _: None)
        return workspace.target.plan(desired, force=force)


def _model_versions(desired: DesiredBackend, deployed: DeployedState, report: DeploymentReport | None) -> dict[str, str]:
    """A version per model: its declaration's hash, renewed whenever its table starts empty again.

    A seeded dataset recorded against another version is stale: its model changed, or its
    table was created, replaced or recreated and lost its items.
    """
    rebuilt = {c.model for c in report.changes if c.action in ("created", "replaced", "recreated")} if report else set()
    generation = uuid.uuid4().hex[:8]
    versions = {}
    for model, declared in desired.model_hashes().items():
        previous = deployed.model_versions.get(model, "")
        if model not in rebuilt and previous.split(".")[0] == declared:
            versions[model] = previous
        else:
            versions[model] = f"{declared}.{generation}"
    return versions


def destroy_environment(workspace: EnvironmentWorkspace, log: Log) -> None:
    """Tear down the environment's backend, where its target allows it (sandbox, unprotected)."""
    name = workspace.environment.name
    with workspace.exclusive(), workspace.aws_failures("Destroying the backend", f"ampflow destroy {name} --yes"):
        workspace.target.destroy(log)
