"""tests/apps/branches as a real git repository with three branches whose schemas differ: a model added, an
index changed, a model removed. Commits are made in worktrees of the tests' own: the app's checkout (the
user's) is never switched, so it can be compared byte for byte before and after.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from conftest import copy_fixture

ADD_TAG, NEW_INDEX, DROP_NOTE = "feature/add-tag", "fix/todo-index", "feature/drop-note"
RESOURCE = "amplify/data/resource.ts"


def git(root: Path, *arguments: str) -> str:
    return subprocess.run(["git", *arguments], cwd=root, check=True, capture_output=True, text=True).stdout.strip()


def commit_on(root: Path, branch: str, message: str, edit: Any, new: bool = False) -> str:
    """A commit on `branch` made in a worktree of the test's own: the app's checkout is never switched."""
    folder = root.parent / f"edit-{branch.replace('/', '-')}"
    git(root, "worktree", "add", "-q", *(["-b", branch, str(folder), "main"] if new else [str(folder), branch]))
    edit(folder)
    git(folder, "add", "-A")
    git(folder, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", message)
    git(root, "worktree", "remove", str(folder))
    return git(root, "rev-parse", branch)


def replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, (path, old)
    path.write_text(text.replace(old, new))


def add_tag_model(folder: Path) -> None:
    replace_in(folder / RESOURCE, "  Note: a", "  Tag: a\n    .model({ name: a.string().required() })\n"
               "    .authorization((allow) => [allow.publicApiKey()]),\n  Note: a")


def index_by_owner(folder: Path) -> None:
    replace_in(folder / RESOURCE, "index('status')", "index('owner')")


def drop_note(folder: Path) -> None:
    text = (folder / RESOURCE).read_text()
    start = text.index("  Note: a")
    end = text.index("});", start)
    (folder / RESOURCE).write_text(text[:start] + text[end:])
    (folder / "seed_data" / "development" / "Note.jsonl").unlink()


def branched_repository(root: Path) -> Path:
    """The fixture app at `root`, committed on main, with its three branches; the checkout stays on main."""
    copy_fixture("branches", root, shared_synthesis=True)
    (root / ".gitignore").write_text("node_modules\n.ampflow/\ndagster_home/\nclients/\n")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "the app")
    commit_on(root, ADD_TAG, "a model added", add_tag_model, new=True)
    commit_on(root, NEW_INDEX, "an index changed", index_by_owner, new=True)
    commit_on(root, DROP_NOTE, "a model removed", drop_note, new=True)
    return root


def user_checkout(root: Path) -> tuple[str, bytes, str, str]:
    """What the user's checkout is: HEAD, the index file, `git status`, and the working tree's schema."""
    return (git(root, "rev-parse", "HEAD"), (root / ".git" / "index").read_bytes(), git(root, "status", "--porcelain"),
            (root / RESOURCE).read_text())


