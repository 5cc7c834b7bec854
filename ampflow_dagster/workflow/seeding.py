"""The seeding step: validate every model a run seeds, then write each one's seed set; and `clean`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ampflow_dagster.errors import SeedError
from ampflow_dagster.fingerprint import DigestCache, digest_cache, file_fingerprint
from ampflow_dagster.seeding.ledger import SeedLedger
from ampflow_dagster.seeding.model_schema import model_schema
from ampflow_dagster.seeding.references import references_to_check
from ampflow_dagster.seeding.seed_counts import SeedCount, seed_count
from ampflow_dagster.seeding.seed_files import USERS_DATASET, seed_fingerprint
from ampflow_dagster.seeding.seed_run import check_seed_run
from ampflow_dagster.seeding.seed_set import SeedSet, label_field_for
from ampflow_dagster.seeding.writer import SeedResult, apply_seed_set
from ampflow_dagster.synthesis.desired_state import DesiredBackend
from ampflow_dagster.workflow.workspace import EnvironmentWorkspace
from ampflow_dagster.progress import Log



@dataclass(frozen=True)
class SeedOutcome:
    seed_set: SeedSet
    result: SeedResult
    count: SeedCount  # what the table holds of the seed set after the pass, read back


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
    # A rerun converges: seeding writes only what is still missing or different.
    with workspace.exclusive(), workspace.aws_failures(
        f"Seeding {table}", f"ampflow seed {workspace.environment.name}", default=SeedError,
    ):
        dynamodb = target.dynamodb_resource()
        result = apply_seed_set(dynamodb, table, target.gate(), seed_set, ledger=ledger)
        count = seed_count(dynamodb, table, seed_set, result)
    return SeedOutcome(seed_set, result, count)


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
    name = workspace.environment.name
    with workspace.exclusive(), workspace.aws_failures(f"Removing the seed items of '{name}'", f"ampflow clean {name}", SeedError):
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
