"""What the definitions of one project are built from: its configuration, its environments as partitions, its seeded models.

The environments are one Dagster dynamic partitions definition: the environments ampflow.toml declares and the
recorded previews are added to the instance wherever ampflow meets it (the change sensor's tick, the schedule,
the CLI, `ampflow ui`); a preview is added by the branch sensor when its branch appears and deleted by its
teardown.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from ampflow_dagster.branches import PREVIEW_PREFIX
from ampflow_dagster.environments import AmpflowConfig, load_config
from ampflow_dagster.preview_registry import save_preview
from ampflow_dagster.project import Project
from ampflow_dagster.seeding.seed_files import USERS_DATASET, seeded_models
from ampflow_dagster.names import seeded_asset_name
from ampflow_dagster.seeding.users import has_users


ENVIRONMENTS = "environments"
ENVIRONMENT_PARTITIONS = dg.DynamicPartitionsDefinition(name=ENVIRONMENTS)


def register_environments(instance: dg.DagsterInstance, config: AmpflowConfig, prune: bool = False) -> list[str]:
    """The instance's environment partitions brought in line with the declared environments and the recorded previews.

    Missing ones are added (those added: returned). A recorded preview added here is new to this instance,
    so the branch sensor is told to look at its history again rather than trust that it was found current.
    With `prune` (the change sensor's tick), a preview partition with no record left (its teardown stopped
    between forgetting the preview and deleting the partition, or `.ampflow/` was removed) is deleted.
    """
    existing = set(instance.get_dynamic_partitions(ENVIRONMENTS))
    wanted = config.every_environment()
    missing = [name for name in wanted if name not in existing]
    if missing:
        instance.add_dynamic_partitions(ENVIRONMENTS, missing)
    for name in missing:
        preview = wanted[name].preview
        if preview is not None and preview.current_at is not None:
            save_preview(home_state_dir(config), preview.moved_to(preview.commit))
    if prune:
        for name in sorted(existing - set(wanted)):
            if name.startswith(PREVIEW_PREFIX):
                instance.delete_dynamic_partition(ENVIRONMENTS, name)
    return missing


def home_state_dir(config: AmpflowConfig) -> Path:
    """The app's .ampflow/, next to the ampflow.toml `config` was read from."""
    assert config.source is not None
    return Project(config.source.parent).state_dir


@dataclass(frozen=True)
class Blueprint:
    """One project's environments (one partition each) and seeded models (one asset each).

    Seeded assets follow the seed files, never what synthesis happens to have cached: every
    process that loads the definitions (code server, run worker, step) must declare the same.
    """

    project: Project
    config: AmpflowConfig
    partitions: dg.DynamicPartitionsDefinition
    seeded: dict[str, str]  # asset name -> model
    has_users: bool = False  # some environment has seed_data/<env>/users.jsonl: the seeded_users asset exists

    @classmethod
    def of(cls, project: Project) -> Blueprint:
        config = load_config(project)
        return cls(
            project=project,
            config=config,
            partitions=ENVIRONMENT_PARTITIONS,
            seeded={seeded_asset_name(model): model for model in seeded_models(project)},
            has_users=has_users(project),
        )

    @property
    def owners(self) -> list[str]:
        return list(self.config.owners)

    def asset_of_model(self, model: str) -> str:
        return seeded_asset_name(model)

    @property
    def seeded_assets(self) -> list[str]:
        """Every seeded asset's name: one per seeded model, and seeded_users."""
        return [*self.seeded, *([seeded_asset_name(USERS_DATASET)] if self.has_users else [])]

    @property
    def seed_datasets(self) -> list[str]:
        """What the change sensor fingerprints per environment: each seeded model, and the users file."""
        return [*self.seeded.values(), *([USERS_DATASET] if self.has_users else [])]
