"""A preview environment's project and teardown: its branch's files, the app's state.

A preview is built from its own git worktree at the commit its record names (see preview_registry.py);
`preview_project` moves that worktree there and says which trees it holds. Teardown removes what the
preview made (on `local`: endpoint, tables, user pool, buckets; on `sandbox`: `ampx sandbox delete`),
its generated client, its worktree and its record, in that order: a teardown stopped halfway is
finished by the next one.
"""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING

from ampflow_dagster.branches import BranchTip, tree_ids
from ampflow_dagster.environments import Environment
from ampflow_dagster.preview_config import PreviewSettings
from ampflow_dagster.preview_checkout import preview_checkout, remove_preview_checkout
from ampflow_dagster.preview_registry import forget_preview, previews_dir
from ampflow_dagster.project import PreviewProject, Project
from ampflow_dagster.targets.base import Log

if TYPE_CHECKING:
    from ampflow_dagster.workflow.workspace import EnvironmentWorkspace


def home_project(project: Project) -> Project:
    """The app's own project, also when `project` is a preview's."""
    return Project(project.config_file.parent)


def preview_project(project: Project, environment: Environment, settings: PreviewSettings | None) -> PreviewProject:
    """The preview's worktree, moved to the commit its record names, as the project its runs build and seed."""
    preview = environment.preview
    assert preview is not None, f"{environment.name} is not a preview"
    home = home_project(project)
    seed_from = settings.seed_from if settings else "development"
    folder = preview_checkout(home, BranchTip(preview.branch, preview.commit, None, None))
    paths = [f"{preview.commit}:amplify", f"{preview.commit}:seed_data/{seed_from}"]
    trees = tree_ids(home.root, paths)
    return PreviewProject(
        root=folder, home=home.root, environment=environment.name, seed_from=seed_from, commit=preview.commit,
        amplify_tree=trees[paths[0]], seed_tree=trees[paths[1]],
    )


def tear_down_preview(workspace: EnvironmentWorkspace, log: Log) -> None:
    """Everything of the workspace's preview removed: its backend, client files, worktree and record."""
    environment = workspace.environment
    home = home_project(workspace.project)
    with workspace.exclusive(), workspace.aws_failures("Tearing down the preview", f"ampflow destroy {environment.name}"):
        workspace.target.destroy(log)
    shutil.rmtree(home.client_dir(environment.name), ignore_errors=True)
    if remove_preview_checkout(home, environment.name):
        log(f"Removed the worktree of {environment.name}")
    forget_preview(home.state_dir, environment.name)
    shutil.rmtree(previews_dir(home.state_dir) / environment.name, ignore_errors=True)
    log(f"Preview {environment.name} of branch {environment.preview.branch if environment.preview else '?'} is gone")
