"""What a change on disk made stale, per environment: the sensor's and `ampflow status`'s logic.

It compares fingerprints of amplify/ and of each seed file with what the latest
successful materializations recorded. It reads files and nothing else: no Node, no AWS.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from ampflow_dagster.environments import Environment
from ampflow_dagster.fingerprint import DigestCache, backend_fingerprint
from ampflow_dagster.project import Project
from ampflow_dagster.seeding.seed_files import seed_fingerprint



@dataclass(frozen=True)
class DeployedState:
    """What the latest successful deployment of an environment recorded."""

    fingerprint: str | None = None
    model_versions: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SeededState:
    """What the latest successful materialization of one seeded dataset recorded."""

    seed_fingerprint: str | None = None
    model_version: str | None = None


@dataclass
class EnvironmentStaleness:
    environment: str
    amplify_fingerprint: str
    deployed_fingerprint: str | None
    deployment_stale: bool = False
    stale_models: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    seed_fingerprints: dict[str, str] = field(default_factory=dict)

    @property
    def checked_seed_files(self) -> int:
        return len(self.seed_fingerprints)

    @property
    def stale(self) -> bool:
        return self.deployment_stale or bool(self.stale_models)

    def change_key(self, asset_names: list[str]) -> str:
        """Identifies this change: the same change never launches two runs."""
        material = "|".join([self.environment, ",".join(sorted(asset_names)), self.amplify_fingerprint]
                            + [f"{m}={self.seed_fingerprints[m]}" for m in sorted(self.stale_models)])
        return hashlib.sha256(material.encode()).hexdigest()[:16]


def environment_staleness(
    project: Project,
    environment: str,
    deployed: DeployedState,
    seeded: dict[str, SeededState],
    seed_fingerprints: dict[str, str],
    current_fingerprint: str,
) -> EnvironmentStaleness:
    state = EnvironmentStaleness(environment, current_fingerprint, deployed.fingerprint, seed_fingerprints=dict(seed_fingerprints))
    if deployed.fingerprint != current_fingerprint:
        state.deployment_stale = True
        state.reasons.append(
            "never deployed" if deployed.fingerprint is None
            else f"amplify/ changed ({deployed.fingerprint} -> {current_fingerprint})"
        )
    for model, fingerprint in sorted(seed_fingerprints.items()):
        recorded = seeded.get(model, SeededState())
        if recorded.seed_fingerprint != fingerprint:
            state.stale_models.append(model)
            state.reasons.append(f"{model}: seed files changed" if recorded.seed_fingerprint else f"{model}: never seeded")
        elif state.deployment_stale:
            continue  # its model may change with the deployment: decided once that has run
        elif model in deployed.model_versions and recorded.model_version != deployed.model_versions[model]:
            state.stale_models.append(model)
            state.reasons.append(f"{model}: its model or table changed in the last deployment")
    return state


def current_fingerprints(
    project: Project, environment: Environment, models: list[str], cache: DigestCache
) -> tuple[str, dict[str, str]]:
    """(the backend's fingerprint, {model: seed fingerprint}) from the files on disk, stat-cached."""
    amplify = backend_fingerprint(project, environment, cache)
    seeds = {model: seed_fingerprint(project, environment.name, model, cache) for model in models}
    return amplify, seeds
