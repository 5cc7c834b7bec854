"""References between seed sets: a child's reference field (Task.projectId) must name a parent its environment seeds.

A child that names a parent missing from the seed data points at nothing, and the app shows
it without its parent. Only parents ampflow seeds (a seed file in some environment) or that
ampflow.toml declares are checked; `allow_external_references` lets a model name parents
the app writes itself.
"""

from __future__ import annotations

from typing import Any

from ampflow_dagster.environments import AmpflowConfig
from ampflow_dagster.project import Project
from ampflow_dagster.seeding.keys import ParentKey, key_hash
from ampflow_dagster.seeding.model_schema import Reference, model_schemas
from ampflow_dagster.seeding.seed_files import read_records, seeded_models
from ampflow_dagster.seeding.seed_set import SeedSet
from ampflow_dagster.seeding.validation import field_errors
from ampflow_dagster.synthesis.desired_state import DesiredBackend


def references_to_check(project: Project, config: AmpflowConfig, model: str, desired: DesiredBackend) -> dict[Reference, ParentKey]:
    """The relationships of `model` whose reference fields must name a seeded parent, with that parent's key."""
    if config.model(model).allow_external_references:
        return {}
    schemas = model_schemas(desired.model_introspection, desired.field_defaults)
    checked_parents = set(seeded_models(project)) | set(config.models)
    found = {}
    for reference in schemas[model].references if model in schemas else ():
        parent = schemas.get(reference.model)
        table = desired.tables.get(reference.model)
        if parent is None or table is None or reference.model not in checked_parents:
            continue
        if len(reference.fields) == len(parent.key_fields) and all(name in schemas[model].fields for name in reference.fields):
            found[reference] = ParentKey(parent, table)
    return found


def check_references(project: Project, child: SeedSet, parents: dict[str, SeedSet], checked: dict[Reference, ParentKey]) -> None:
    """Add a problem to `child` for each item whose reference names a parent that `parents` (the environment's seed sets) lack.

    The first pass kept one hash per named parent; the files are read again only when some named parent is missing.
    """
    missing = {}
    for reference, named in child.references.items():
        parent = parents.get(reference.model)
        if parent is None or reference not in checked:
            continue
        absent = named - parent.key_hashes - parent.problem_keys  # a parent item with problems reports itself
        if absent:
            missing[reference] = absent
    if not missing:
        return
    assert child.schema is not None
    environment = child.environment.name
    for path in child.files:
        for record in read_records(path):
            if field_errors(child.schema, record.values):
                continue
            for reference, absent in missing.items():
                key = checked[reference].key_named_by(reference, record.values)
                if key is not None and key_hash(key) in absent:
                    where = project.seed_folder(environment) / f"{reference.model}.*"
                    child.problems.add(path, f"{record.where}: {_named(reference, record.values)} names no {reference.model} in {where}")
                    child.problems.references += 1


def _named(reference: Reference, values: dict[str, Any]) -> str:
    if len(reference.fields) == 1:
        return f"{reference.fields[0]} {values[reference.fields[0]]!r}"
    return f"{', '.join(reference.fields)} ({', '.join(repr(values[name]) for name in reference.fields)})"
