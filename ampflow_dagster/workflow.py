"""The workflow's steps as plain functions: what each Dagster asset calls.

Deploy, verify, seed and generate the client for one environment. Nothing here knows
Dagster: what Dagster remembers (the fingerprint of the last successful deployment)
is passed in, and what a person should see comes back as plain results.
"""

from __future__ import annotations

import fcntl
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from botocore.exceptions import BotoCoreError, ClientError

from ampflow_dagster.environments import AmpflowConfig, Environment, load_config
from ampflow_dagster.errors import SeedError, VerificationError
from ampflow_dagster.fingerprint import DigestCache, backend_fingerprint, digest_cache, file_fingerprint
from ampflow_dagster.planning import PlannedChange, back_up_tables, guard_destructive_changes, plan_text
from ampflow_dagster.project import Project
from ampflow_dagster.seeding.model_schema import model_schema
from ampflow_dagster.seeding.references import references_to_check
from ampflow_dagster.seeding.ledger import SeedLedger
from ampflow_dagster.seeding.seed_files import USERS_DATASET, seed_fingerprint
from ampflow_dagster.seeding.seed_run import check_seed_run
from ampflow_dagster.seeding.seed_set import SeedSet, label_field_for
from ampflow_dagster.seeding.writer import SeedResult, apply_seed_set
from ampflow_dagster.staleness import DeployedState
from ampflow_dagster.synthesis.desired_state import DesiredBackend
from ampflow_dagster.synthesis.runner import synthesize
from ampflow_dagster.targets.aws import AwsSettings
from ampflow_dagster.targets.base import DeploymentReport, DeployTarget
from ampflow_dagster.targets.factory import target_for
from ampflow_dagster.verification.seed_counts import SeedCount, seed_count
from ampflow_dagster.verification.table_state import table_differences

Log = Callable[[str], None]


@dataclass
class EnvironmentWorkspace:
    """One environment of one project, with its deploy target."""

    project: Project
    config: AmpflowConfig
    environment: Environment
    target: DeployTarget
    _fingerprint: str | None = None

    @classmethod
    def open(cls, project: Project, environment_name: str, aws: AwsSettings, config: AmpflowConfig | None = None) -> EnvironmentWorkspace:
        config = config or load_config(project)
        environment = config.environment(environment_name)
        return cls(project, config, environment, target_for(project, environment, aws))

    def fingerprint(self) -> str:
        if self._fingerprint is None:
            self._fingerprint = backend_fingerprint(self.project, self.environment)
        return self._fingerprint

    def desired(self) -> DesiredBackend:
        identifier = self.target.backend_identifier(self.project.package_name())
        return synthesize(self.project, identifier, self.fingerprint(), self.environment.synthesis_variables())

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold this environment's lock: two runs never change one environment at the same time."""
        lock_dir = self.project.state_dir / "locks"
        lock_dir.mkdir(parents=True, exist_ok=True)
        with (lock_dir / f"{self.environment.name}.lock").open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


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
    if not force and deployed.fingerprint == fingerprint:
        drift = workspace.target.drift(desired)
        if not drift:
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
    with workspace.exclusive():
        target.preflight(log)
        plan = target.plan(desired, force=force)
        log("Plan:\n" + plan_text(plan))
        losing = guard_destructive_changes(
            plan, workspace.environment, allow_destructive=allow_destructive, automated=automated
        )
        backups = back_up_tables(target.dynamodb_client(), losing, workspace.environment) if losing else {}
        for table, backup in backups.items():
            log(f"Backed up {table}: {backup}")
        report = target.deploy(desired, plan, log=log)
    return DeploymentOutcome(
        fingerprint, desired.template_hash(), skipped=False, reason=reason,
        model_versions=_model_versions(desired, deployed, report), report=report, drift=drift,
        plan=plan, backups=backups, seconds=time.monotonic() - started,
        other_stacks=other_stacks_text(desired, target),
    )


def plan_deployment(workspace: EnvironmentWorkspace, *, force: bool = False) -> list[PlannedChange]:
    """`ampflow plan`: what deploying now would do, changing nothing."""
    workspace.target.preflight(lambda _: None)
    return workspace.target.plan(workspace.desired(), force=force)


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


@dataclass(frozen=True)
class TableCheck:
    """One table against its declaration: what was expected and what was found, and what differs."""

    model: str
    table: str
    status: str
    item_count: int | None
    problems: list[str]
    expected_keys: str = ""
    found_keys: str = ""
    expected_indexes: tuple[str, ...] = ()
    found_indexes: tuple[str, ...] = ()


TROUBLESHOOTING = [
    "a schema error in amplify/data/resource.ts: synthesis or the deployment stopped before the tables were made",
    "the default authorization mode is `iam` instead of `apiKey` or `userPool`: the app's calls are refused "
    "(set defaultAuthorizationMode in defineData; api_client's default_authorization_mode check says more)",
    "credentials or endpoint point at another account, region or emulator than the deployment used",
    "the deployment's stack failed: rerun backend_deployment and read its errors",
]


def inspect_tables(workspace: EnvironmentWorkspace) -> list[TableCheck]:
    """Each desired table against the live one: exists, ACTIVE, the desired keys and indexes. Raises nothing."""
    desired = workspace.desired()
    checks = []
    for model, live in workspace.target.live_tables(desired).items():
        name = workspace.target.table_name(model)
        spec = desired.tables[model]
        expected = {"expected_keys": spec.key_schema_text(), "expected_indexes": tuple(i.text() for i in spec.indexes)}
        if live is None:
            checks.append(TableCheck(model, name, "MISSING", None, ["table does not exist"], found_keys="none", **expected))
            continue
        differences = table_differences(spec, live.spec)
        problems = [*differences.key_schema, *(f"index {i.name} missing" for i in differences.indexes_to_add)]
        problems += [f"index {n} not declared" for n in differences.indexes_to_remove]
        if live.status != "ACTIVE":
            problems.insert(0, f"status {live.status}, not ACTIVE")
        found = {"found_keys": live.spec.key_schema_text(), "found_indexes": tuple(i.text() for i in live.spec.indexes)}
        checks.append(TableCheck(model, name, live.status, live.item_count, problems, **expected, **found))
    return checks


def require_matching_tables(workspace: EnvironmentWorkspace, checks: list[TableCheck]) -> None:
    """Raise, naming every table that does not match, its problems and what to do."""
    failing = [check for check in checks if check.problems]
    if not failing:
        return
    lines = "\n".join(f"  {c.table} ({c.model}): {'; '.join(c.problems)}" for c in failing)
    causes = "\n".join(f"  - {cause}" for cause in TROUBLESHOOTING)
    auth = workspace.desired().default_authorization_type
    raise VerificationError(
        f"{len(failing)} of {len(checks)} table(s) of environment '{workspace.environment.name}' "
        f"do not match amplify/ (default authorization: {auth}):\n{lines}\nCommon causes:\n{causes}",
        redeploy_advice(workspace.environment.name),
    )


def redeploy_advice(environment: str) -> str:
    """What to do about tables that do not match amplify/."""
    return f"Materialize backend_deployment for '{environment}' (ampflow deploy {environment}), then verify again."


@dataclass(frozen=True)
class SeedOutcome:
    seed_set: SeedSet
    result: SeedResult
    count: SeedCount  # what the table holds of the seed set, as the pass found and left it


def prepare_seed_set(
    workspace: EnvironmentWorkspace, model: str, run_models: list[str], step_of: Callable[[str], str] = lambda model: model
) -> SeedSet:
    """`model`'s validated seed set, once every model the run seeds is valid: nothing is written while one is not.

    Every model of the run is validated together, so each seeded step knows about every
    problem, but shows only its own: a step whose model is valid names, in one line, the
    steps (`step_of(model)`) whose models are not. A model whose seed files, the seed files of
    the parents it references, the schema and ampflow.toml are unchanged since it last
    validated is not read again.
    """
    desired = workspace.desired()
    cache = digest_cache(workspace.project)
    run = sorted(set(run_models) | {model})
    stamps = {name: _validation_stamp(workspace, name, desired, cache) for name in run}
    stale = [name for name in run if name == model or _read_marker(_validation_marker(workspace, name)) != stamps[name]]
    check = check_seed_run(workspace.project, workspace.config, workspace.environment, stale, desired)
    for name in check.seed_sets:
        marker = _validation_marker(workspace, name)
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(stamps[name], encoding="utf-8")
    cache.save()
    others = sorted(name for name in check.errors if name != model)
    if model in check.errors:
        error = check.errors[model]
        if others:
            error = SeedError(f"{error.message}\n(Seed data of {_steps(others, step_of)} has problems too.)", error.resolution)
        raise error
    if others:
        raise SeedError(
            f"Nothing was written for environment '{workspace.environment.name}': {model}'s seed data is valid, but this run "
            f"also seeds {', '.join(others)}, whose seed data has problems; see {_steps(others, step_of)}."
        )
    return check.seed_sets[model]


def _steps(models: list[str], step_of: Callable[[str], str]) -> str:
    steps = [step_of(name) for name in models]
    return f"step{'s' if len(steps) > 1 else ''} {', '.join(steps)}"


def _validation_marker(workspace: EnvironmentWorkspace, model: str) -> Path:
    return workspace.project.state_dir / "validated" / workspace.environment.name / model


def _validation_stamp(workspace: EnvironmentWorkspace, model: str, desired: DesiredBackend, cache: DigestCache) -> str:
    """What a model's validation depends on: its seed files, those of the parents it references, the users file, the schema, ampflow.toml."""
    project, environment = workspace.project, workspace.environment.name
    config = file_fingerprint(project.config_file, cache) if project.config_file.is_file() else "none"
    parents = sorted({reference.model for reference in references_to_check(project, workspace.config, model, desired)})
    files = ";".join(seed_fingerprint(project, environment, name, cache) for name in [model, *parents, USERS_DATASET])
    return f"{files}|{desired.template_hash()}|{config}"


def _read_marker(marker: Path) -> str | None:
    try:
        return marker.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


def seed_model(workspace: EnvironmentWorkspace, seed_set: SeedSet, ledger: SeedLedger | None) -> SeedOutcome:
    """Write `seed_set`; `ledger` is the record of what the last pass wrote (None: none is known). The outcome has the new one."""
    target = workspace.target
    table = target.table_name(seed_set.model)
    try:
        with workspace.exclusive():
            result = apply_seed_set(target.dynamodb_resource(), table, target.gate(), seed_set, ledger=ledger)
    except (BotoCoreError, ClientError) as error:
        raise SeedError(
            f"Seeding {table} for environment '{workspace.environment.name}' stopped: {error}",
            "Seed again once the endpoint answers: seeding writes only what is still missing or different, "
            "so a rerun converges to exactly the seed set.",
        ) from None
    return SeedOutcome(seed_set, result, seed_count(table, seed_set, result))


@dataclass(frozen=True)
class CleanOutcome:
    removed: dict[str, int]  # model -> items removed
    records: dict[str, SeedLedger]  # model -> the (now empty) record of what ampflow wrote


def clean_environment(workspace: EnvironmentWorkspace, ledgers: dict[str, SeedLedger | None], log: Log) -> CleanOutcome:
    """Delete ampflow's seed items from the environment's own tables; every other item stays.

    A model's items are those its record (`ledgers`) names, where there is one; else those
    carrying the environment's prefix (a model with no label field and no record has none
    ampflow can tell apart, and is left as it is).
    """
    desired = workspace.desired()
    target = workspace.target
    dynamodb = target.dynamodb_resource()
    outcome = CleanOutcome({}, {})
    with workspace.exclusive():
        for model in sorted(desired.tables):
            table = target.table_name(model)
            schema = model_schema(desired.model_introspection, model, f"model {model}", desired.field_defaults)
            label = label_field_for(workspace.config, schema, f"model {model}", desired.tables[model])
            empty = SeedSet(workspace.environment, model, desired.tables[model], label, files=[])
            ledger = ledgers.get(model)
            if ledger is None and label is None:
                log(f"{table}: left as it is: {model} has no label field and no record of what ampflow wrote")
                continue
            result = apply_seed_set(dynamodb, table, target.gate(), empty, ledger=ledger)
            outcome.removed[model] = result.removed
            assert result.ledger is not None
            outcome.records[model] = result.ledger
            how = "named by ampflow's record" if ledger is not None else f"prefixed {workspace.environment.prefix}"
            log(f"{table}: removed {result.removed} seed item(s) {how}")
    return outcome


def generate_client(workspace: EnvironmentWorkspace, log: Log) -> list[Path]:
    directory = workspace.project.client_dir(workspace.environment.name)
    return workspace.target.generate_client(workspace.desired(), directory, log)


def destroy_environment(workspace: EnvironmentWorkspace, log: Log) -> None:
    """Tear down the environment's backend, where its target allows it (sandbox, unprotected)."""
    with workspace.exclusive():
        workspace.target.destroy(log)
