"""The branches that get a preview, read from a real git repository with plumbing only."""

from __future__ import annotations

import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from ampflow_dagster.branches import matching_branches, preview_environment
from ampflow_dagster.environments import ENVIRONMENT_NAME
from ampflow_dagster.errors import ConfigurationError, DeploymentError
from ampflow_dagster.preview_checkout import preview_checkout, remove_preview_checkout
from ampflow_dagster.preview_config import PreviewSettings
from ampflow_dagster.project import Project


def git(root: Path, *arguments: str) -> str:
    return subprocess.run(["git", *arguments], cwd=root, check=True, capture_output=True, text=True).stdout.strip()


def commit_files(root: Path, message: str, **files: str) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    git(root, "add", "-A")
    git(root, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", message)


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    root = tmp_path / "app"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    commit_files(root, "app", **{"amplify/backend.ts": "// main\n", "seed_data/development/Todo.jsonl": '{"content": "a"}\n'})
    git(root, "branch", "feature/new-model")
    git(root, "checkout", "-q", "-b", "fix/index")
    commit_files(root, "index", **{"amplify/data/resource.ts": "// an index changed\n"})
    git(root, "checkout", "-q", "-b", "feature/no-seeds")
    git(root, "rm", "-q", "-r", "seed_data")
    commit_files(root, "no seeds")
    git(root, "checkout", "-q", "main")
    (root / "amplify" / "backend.ts").write_text("// edited, not committed\n")  # the working tree is not the branch
    return root


def test_matching_branches_have_their_own_trees_from_two_git_processes(repository: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []
    run = subprocess.run

    def counted(arguments: list[str], *rest: Any, **options: Any) -> Any:
        calls.append(arguments)
        return run(arguments, *rest, **options)

    index_before = (repository / ".git" / "index").read_bytes()
    monkeypatch.setattr(subprocess, "run", counted)
    tips = matching_branches(repository, PreviewSettings(branches=("feature/*", "fix/*")))
    monkeypatch.undo()
    assert [tip.branch for tip in tips] == ["feature/new-model", "feature/no-seeds", "fix/index"]
    assert [call[1] for call in calls] == ["for-each-ref", "cat-file"]
    for tip in tips:
        assert tip.commit == git(repository, "rev-parse", tip.branch)
        assert tip.amplify_tree == git(repository, "rev-parse", f"{tip.branch}:amplify")
    by_branch = {tip.branch: tip for tip in tips}
    assert by_branch["feature/new-model"].amplify_tree != by_branch["fix/index"].amplify_tree
    assert by_branch["feature/new-model"].amplify_tree != git(repository, "write-tree")  # not the working tree
    assert by_branch["feature/no-seeds"].seed_tree is None
    assert by_branch["feature/new-model"].seed_tree == git(repository, "rev-parse", "main:seed_data/development")
    assert (repository / ".git" / "index").read_bytes() == index_before
    assert git(repository, "rev-parse", "--abbrev-ref", "HEAD") == "main"


def test_no_branch_matches_without_a_second_git_process(repository: Path) -> None:
    assert matching_branches(repository, PreviewSettings(branches=("release/*",))) == []


def test_a_folder_that_is_not_a_repository_is_named_with_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"git for-each-ref` failed in .*: .*not a git repository") as raised:
        matching_branches(tmp_path, PreviewSettings(branches=("feature/*",)))
    assert "git init" in raised.value.resolution


@pytest.mark.parametrize("branch", ["feature/new-model", "fix/JIRA-1234_index", "main", "feature/a/b/c", "x" * 80, "feature/---"])
def test_a_preview_environment_name_is_stable_distinct_and_valid(branch: str) -> None:
    name = preview_environment(branch)
    assert ENVIRONMENT_NAME.match(name), name
    assert name == preview_environment(branch)
    assert name != preview_environment(branch + "2")


# --- a preview's own checkout: a worktree at its branch tip, never the user's ----------------------------------


def user_checkout_state(root: Path) -> tuple[bytes, str, str]:
    return (root / ".git" / "index").read_bytes(), git(root, "rev-parse", "HEAD"), git(root, "status", "--porcelain")


def test_a_preview_checkout_holds_its_branch_tip_and_moves_with_it(repository: Path) -> None:
    commit_files(repository, "ignore ampflow's state", **{".gitignore": ".ampflow/\nnode_modules/\n", "package-lock.json": "{}\n"})
    (repository / "amplify" / "backend.ts").write_text("// edited, not committed\n")
    (repository / "node_modules").mkdir()
    before = user_checkout_state(repository)
    project = Project(repository)
    settings = PreviewSettings(branches=("fix/*",))
    (tip,) = matching_branches(repository, settings)
    with pytest.raises(DeploymentError, match=r"Branch fix/index .* has another package-lock\.json than the app's") as refused:
        preview_checkout(project, tip)  # the branch has no lockfile, the app has one
    assert "npm ci" in refused.value.resolution
    assert user_checkout_state(repository) == before
    git(repository, "checkout", "-q", "fix/index")
    git(repository, "checkout", "-q", "main", "--", "package-lock.json", ".gitignore")
    commit_files(repository, "the app's lockfile on the branch")
    git(repository, "checkout", "-q", "main")
    (repository / "amplify" / "backend.ts").write_text("// edited, not committed\n")
    before = user_checkout_state(repository)

    (tip,) = matching_branches(repository, settings)
    folder = preview_checkout(project, tip)
    assert folder == repository / ".ampflow" / "previews" / tip.environment / "checkout"
    assert (folder / "amplify" / "data" / "resource.ts").read_text() == "// an index changed\n"
    assert (folder / "amplify" / "backend.ts").read_text() == "// main\n"  # the branch's, not the edited working tree
    assert (folder / "node_modules").resolve() == (repository / "node_modules").resolve()
    assert user_checkout_state(repository) == before

    git(folder, "-c", "advice.detachedHead=false", "status")  # a worktree git knows
    git(repository, "checkout", "-q", "fix/index")
    commit_files(repository, "another index", **{"amplify/data/resource.ts": "// another index\n"})
    git(repository, "checkout", "-q", "main")
    (repository / "amplify" / "backend.ts").write_text("// edited, not committed\n")
    before = user_checkout_state(repository)
    (moved,) = matching_branches(repository, settings)
    with ThreadPoolExecutor(4) as pool:  # a run's steps open the preview side by side: one moves it, the others wait
        opened = list(pool.map(lambda _: preview_checkout(project, moved), range(4)))
    assert opened == [folder] * 4 and git(folder, "rev-parse", "HEAD") == moved.commit
    assert (folder / "amplify" / "data" / "resource.ts").read_text() == "// another index\n"
    assert user_checkout_state(repository) == before

    assert remove_preview_checkout(project, tip.environment)
    assert not folder.exists() and (repository / "node_modules").is_dir()  # the app's install stays
    assert str(folder) not in git(repository, "worktree", "list")
    assert user_checkout_state(repository) == before
    assert not remove_preview_checkout(project, tip.environment)
