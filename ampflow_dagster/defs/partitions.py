"""What the definitions of one project are built from: its configuration, its environments as partitions, its seeded models."""

from __future__ import annotations

from dataclasses import dataclass

import dagster as dg

from ampflow_dagster.environments import AmpflowConfig, load_config
from ampflow_dagster.project import Project
from ampflow_dagster.seeding.seed_files import USERS_DATASET, seeded_models
from ampflow_dagster.names import seeded_asset_name
from ampflow_dagster.seeding.users import has_users


@dataclass(frozen=True)
class Blueprint:
    """One project's environments (one partition each) and seeded models (one asset each).

    Seeded assets follow the seed files, never what synthesis happens to have cached: every
    process that loads the definitions (code server, run worker, step) must declare the same.
    """

    project: Project
    config: AmpflowConfig
    partitions: dg.StaticPartitionsDefinition
    seeded: dict[str, str]  # asset name -> model
    has_users: bool = False  # some environment has seed_data/<env>/users.jsonl: the seeded_users asset exists

    @classmethod
    def of(cls, project: Project) -> Blueprint:
        config = load_config(project)
        return cls(
            project=project,
            config=config,
            partitions=dg.StaticPartitionsDefinition(list(config.environments)),
            seeded={seeded_asset_name(model): model for model in seeded_models(project)},
            has_users=has_users(project),
        )

    @property
    def owners(self) -> list[str]:
        return list(self.config.owners)

    def asset_of_model(self, model: str) -> str:
        return seeded_asset_name(model)

    @property
    def seed_datasets(self) -> list[str]:
        """What the change sensor fingerprints per environment: each seeded model, and the users file."""
        return [*self.seeded.values(), *([USERS_DATASET] if self.has_users else [])]
