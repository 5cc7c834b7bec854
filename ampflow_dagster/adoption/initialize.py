"""`ampflow init`: add ampflow's files to an existing Amplify Gen 2 app, leaving every existing file as it is.

Writes ampflow.toml, one example seed item per model and environment, the Dagster instance
and workspace files, and appends what ampflow needs to .gitignore. Running it again
writes nothing. The synthesized backend is passed in, so this needs no Node and no Dagster.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator

from ampflow_dagster.adoption.project_files import WORKSPACE_YAML, ampflow_toml, ensure_gitignore, new_project_id, write_new_file
from ampflow_dagster.adoption.seed_examples import ExistingSeeds, SeedExamples, seed_examples
from ampflow_dagster.environments import DEFAULT_ENVIRONMENTS, Environment, load_config
from ampflow_dagster.errors import ConfigurationError, SeedError
from ampflow_dagster.instance import INSTANCE_CONFIG
from ampflow_dagster.project import Project
from ampflow_dagster.seeding.label_fields import LabelChoice, how_to_label, label_choice
from ampflow_dagster.seeding.model_schema import ModelSchema, model_schemas
from ampflow_dagster.seeding.seed_files import read_records, seed_files
from ampflow_dagster.seeding.seed_set import build_item
from ampflow_dagster.seeding.validation import field_errors
from ampflow_dagster.synthesis.desired_state import DesiredBackend

EXISTS = "exists"


@dataclass(frozen=True)
class FileOutcome:
    path: str  # relative to the app's root, with forward slashes
    detail: str  # what was written, or why the file was left alone


@dataclass
class InitReport:
    """What `initialize` did, for a person: files written, files left alone and why, and notes."""

    root: Path
    written: list[FileOutcome] = field(default_factory=list)
    left_alone: list[FileOutcome] = field(default_factory=list)
    gitignore_added: list[str] = field(default_factory=list)  # lines appended to .gitignore
    labels: dict[str, LabelChoice] = field(default_factory=dict)  # every model's label field (or none) and why
    notes: list[str] = field(default_factory=list)

    @property
    def changed_anything(self) -> bool:
        return bool(self.written)

    def lines(self) -> list[str]:
        """The report as a terminal shows it."""
        lines = [f"wrote {outcome.path} ({outcome.detail})" for outcome in self.written]
        lines += [f"left alone {outcome.path}: {outcome.detail}" for outcome in self.left_alone]
        lines += [f"note: {note}" for note in self.notes]
        return lines


def initialize(project_root: Path, desired: DesiredBackend) -> InitReport:
    """Add ampflow's files to the Amplify Gen 2 app at `project_root`, whose synthesized backend is `desired`.

    Never overwrites or edits an existing file, except appending missing lines to .gitignore.
    An existing ampflow.toml is respected: its environments get example seed files and its
    label fields are used. Raises ConfigurationError before writing anything when the folder
    is not an Amplify app or its ampflow.toml is invalid.
    """
    project = Project(project_root)
    if not project.amplify_dir.is_dir():
        raise ConfigurationError(
            f"{project_root} has no amplify/ folder.",
            "Run ampflow init in the root of an Amplify Gen 2 app (the folder with package.json and amplify/).",
        )
    config = load_config(project)  # defaults when there is no ampflow.toml yet
    report = InitReport(root=project.root)
    schemas = model_schemas(desired.model_introspection, desired.field_defaults)
    if not schemas:
        report.notes.append("The data API declares no models (or no model introspection schema was synthesized): there is nothing to seed.")

    label_fields: dict[str, str | None] = {}  # the models that get an example, and the field carrying their prefix
    unlabeled_help: dict[str, str] = {}
    for model, schema in schemas.items():
        table = desired.tables.get(model)
        try:
            choice = label_choice(config, schema, table)
        except SeedError as refused:  # an existing ampflow.toml names an unsafe field
            report.labels[model] = LabelChoice(model, None, refused.message, configured=True)
            unlabeled_help[model] = refused.resolution
            report.notes.append(f"{model}: no seed files: {refused.message} {refused.resolution}")
            continue
        report.labels[model] = choice
        label_fields[model] = choice.field
        if choice.field is None:
            unlabeled_help[model] = how_to_label(schema, table)
            report.notes.append(f"{model}: seed items carry no prefix: {choice.reason}. {unlabeled_help[model]}")

    external = frozenset(model for model, settings in config.models.items() if settings.allow_external_references)
    examples = {}
    for name, environment in config.environments.items():
        existing = _existing_seeds(project, environment, schemas, desired, label_fields)
        examples[name] = seed_examples(schemas, label_fields, existing, external)
    not_written = _not_written(examples)
    config_text = ampflow_toml(new_project_id(_package_name(project)), report.labels, unlabeled_help, not_written)
    _write(report, project, "ampflow.toml", config_text, _config_detail(report))
    _write(report, project, "dagster_home/dagster.yaml", INSTANCE_CONFIG, "Dagster instance: one run per environment at a time, telemetry off")
    _write(report, project, "workspace.yaml", WORKSPACE_YAML, "Dagster code location ampflow_dagster.definitions")

    for environment, made in examples.items():
        report.notes.extend(note for note in made.notes if note not in report.notes)
        for model in label_fields:
            relative = f"seed_data/{environment}/{model}.jsonl"
            existing = seed_files(project, environment, model)
            others = [path.relative_to(project.root).as_posix() for path in existing if path.name != f"{model}.jsonl"]
            if existing:  # a second seed file would add the example to the model's seed items
                detail = f"{EXISTS}; {', '.join(others)} holds {model}'s seed items" if others else EXISTS
                report.left_alone.append(FileOutcome(relative, detail))
            elif model in made.examples:
                example = made.examples[model]
                _write(report, project, relative, example.jsonl(), f"1 example {model}, label field {example.label_field or 'none (no prefix)'}")
    report.notes.extend(f"{model}: {why}" for model, reasons in not_written.items() for why in reasons)

    existed = (project.root / ".gitignore").is_file()
    added, notes = ensure_gitignore(project.root / ".gitignore")
    report.notes.extend(notes)
    report.gitignore_added = added
    if added:
        report.written.append(FileOutcome(".gitignore", f"{'appended' if existed else 'created with'} {', '.join(added)}"))
    else:
        report.left_alone.append(FileOutcome(".gitignore", "already ignores ampflow's state, its clients and dagster_home"))
    return report


def _existing_seeds(
    project: Project, environment: Environment, schemas: dict[str, ModelSchema], desired: DesiredBackend, label_fields: dict[str, str | None],
) -> dict[str, ExistingSeeds]:
    """The models with seed files in `environment` already: the key of each one's first item that validates, and the
    parents its items name.

    The key is the one seeding stores: an item without an `id` gets the id seeding derives from its content.
    """
    existing = {}
    for model, schema in schemas.items():
        files = seed_files(project, environment.name, model)
        table = desired.tables.get(model)
        if not files or table is None:
            continue
        shown = tuple(path.relative_to(project.root).as_posix() for path in files)
        key, why_not = None, f"{' and '.join(shown)} hold no {model} that validates"
        names: dict[str, dict[tuple[Any, ...], None]] = {}  # parent -> the keys named, in order, once each
        try:
            for path in files:
                for record in read_records(path):
                    if key is None and not field_errors(schema, record.values):
                        item = build_item(schema, table, environment, label_fields.get(model), record.values)
                        key = {name: item[name] for name in schema.key_fields}
                    for parent, named in _named_keys(schemas, schema, record.values):
                        names.setdefault(parent, {})[named] = None
        except SeedError as unreadable:
            key, why_not, names = None, unreadable.message.rstrip("."), {}
        existing[model] = ExistingSeeds(shown, key, why_not, {parent: list(keys) for parent, keys in names.items()})
    return existing


def _named_keys(schemas: dict[str, ModelSchema], schema: ModelSchema, values: dict[str, Any]) -> Iterator[tuple[str, tuple[Any, ...]]]:
    """(parent model, its key's values in key order) for each parent a seed item names through a reference that lines up."""
    for reference in schema.references:
        parent = schemas.get(reference.model)
        named = tuple(values.get(name) for name in reference.fields)
        if parent is not None and len(parent.key_fields) == len(named) and all(isinstance(value, (str, int, Decimal)) for value in named):
            yield reference.model, named


def _not_written(examples: dict[str, SeedExamples]) -> dict[str, list[str]]:
    """Model -> why some environment has no example of it, one sentence per reason, naming the environments unless it is all."""
    reasons: dict[str, dict[str, list[str]]] = {}
    for environment, made in examples.items():
        for model, why in made.not_written.items():
            reasons.setdefault(model, {}).setdefault(why, []).append(environment)
    return {
        model: [
            f"ampflow init wrote no example{'' if len(environments) == len(examples) else ' in ' + ' and '.join(environments)}: {why}."
            for why, environments in by_reason.items()
        ]
        for model, by_reason in reasons.items()
    }


def _write(report: InitReport, project: Project, relative: str, text: str, detail: str) -> None:
    if write_new_file(project.root / relative, text):
        report.written.append(FileOutcome(relative, detail))
    else:
        report.left_alone.append(FileOutcome(relative, EXISTS))


def _package_name(project: Project) -> str:
    try:
        return project.package_name()
    except ConfigurationError:  # no usable package.json: the folder's name still makes a readable id
        return project.root.name


def _config_detail(report: InitReport) -> str:
    labeled = [f"{model}.{choice.field}" for model, choice in report.labels.items() if choice.field is not None]
    return f"environments {' and '.join(DEFAULT_ENVIRONMENTS)}; label fields {', '.join(labeled) or 'none'}"
