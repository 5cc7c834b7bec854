"""The workflow's users step: an environment's seed users into its own user pool, and their ids for owner fields.

Like the other workflow steps, plain functions the Dagster assets call; nothing here knows Dagster.
"""

from __future__ import annotations

import os
from contextlib import AbstractContextManager
from dataclasses import dataclass

from ampflow_dagster.errors import SeedError
from ampflow_dagster.seeding.seed_set import SeedSet
from ampflow_dagster.seeding.user_writer import UsersResult, apply_seed_users, read_identities
from ampflow_dagster.seeding.users import SeedUsers, load_seed_users
from ampflow_dagster.targets.user_pools import UserPoolRef
from ampflow_dagster.workflow.workspace import EnvironmentWorkspace
from ampflow_dagster.progress import Log



@dataclass(frozen=True)
class UsersOutcome:
    users: SeedUsers
    pool: UserPoolRef | None  # None: the environment has no users file, so no pool was touched
    result: UsersResult | None


def seed_users(workspace: EnvironmentWorkspace, log: Log) -> UsersOutcome:
    """Validate the environment's users file, then create or update its users in the environment's own pool."""
    desired = workspace.desired()
    users = load_seed_users(workspace.project, workspace.environment, desired.auth)
    if not users.files:
        log(f"No users file for environment '{workspace.environment.name}': no user was created or changed")
        return UsersOutcome(users, None, None)
    assert desired.auth is not None, "load_seed_users refuses users for a backend without auth"
    target = workspace.target
    # A rerun converges: existing users are found again and only what differs is changed.
    with workspace.exclusive(), _cognito(workspace, "Seeding the users"):
        pool = target.gate().user_pool(target.user_pool(desired, log))
        result = apply_seed_users(target.cognito_client(), pool, desired.auth, users, os.environ, log)
    return UsersOutcome(users, pool, result)


def owners_for(workspace: EnvironmentWorkspace, seed_set: SeedSet) -> dict[str, str]:
    """username -> "<sub>::<username>" in the environment's pool, for the users `seed_set`'s items name."""
    if not seed_set.referenced_users:
        return {}
    desired = workspace.desired()
    users = load_seed_users(workspace.project, workspace.environment, desired.auth)
    assert desired.auth is not None
    named = [user for user in users.users if user.username in seed_set.referenced_users]
    target = workspace.target
    with _cognito(workspace, "Reading the seed users' ids from the user pool"):
        pool = target.gate().user_pool(target.user_pool(desired, lambda _: None))
        identities = read_identities(target.cognito_client(), pool, desired.auth, named)
    return {name: identity.owner for name, identity in identities.items()}


def _cognito(workspace: EnvironmentWorkspace, doing: str) -> AbstractContextManager[None]:
    return workspace.aws_failures(doing, f"ampflow seed {workspace.environment.name}", default=SeedError)
