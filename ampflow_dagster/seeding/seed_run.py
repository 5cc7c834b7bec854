"""Validate every model a run seeds, together: each model's own problems, and its references to the parents it names."""

from __future__ import annotations

from dataclasses import dataclass

from ampflow_dagster.environments import AmpflowConfig, Environment
from ampflow_dagster.errors import SeedError
from ampflow_dagster.project import Project
from ampflow_dagster.seeding.seed_files import seed_files
from ampflow_dagster.seeding.references import check_references, references_to_check
from ampflow_dagster.seeding.seed_set import SeedSet, check_seed_set, problems_error
from ampflow_dagster.synthesis.desired_state import DesiredBackend


@dataclass(frozen=True)
class RunCheck:
    """Per model of the run: its validated seed set, or the one error listing all its problems."""

    seed_sets: dict[str, SeedSet]
    errors: dict[str, SeedError]


def check_seed_run(
    project: Project, config: AmpflowConfig, environment: Environment, models: list[str], desired: DesiredBackend
) -> RunCheck:
    """Check `models` in `environment`; a parent they reference is read for its keys even when the run does not seed it.

    A parent outside the run contributes only its keys: its own problems are reported when it is seeded.
    """
    # A model the schema lacks, with no seed file either (a preview's branch removed it), has nothing to check.
    models = [model for model in models if model in desired.tables or seed_files(project, environment.name, model)]
    checked = {model: references_to_check(project, config, model, desired) for model in models}
    parents = {reference.model for references in checked.values() for reference in references} - set(models)
    loaded: dict[str, SeedSet] = {}
    errors: dict[str, SeedError] = {}
    for model in sorted({*models, *parents}):
        try:
            loaded[model] = check_seed_set(project, config, environment, model, desired, checked.get(model))
        except SeedError as error:
            if model in models:
                errors[model] = error
    for model in models:
        if model in loaded:
            check_references(project, loaded[model], loaded, checked[model])
            if loaded[model].problems:
                errors[model] = problems_error(loaded[model])
    return RunCheck({model: loaded[model] for model in models if model not in errors}, errors)
