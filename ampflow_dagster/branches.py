"""The git branches that get a preview environment, read with git plumbing only.

A tick over any number of branches is two git processes: `git for-each-ref` lists every branch tip,
and one `git cat-file --batch-check` names the tree of `amplify/` and of the seed folder at each
matching tip. A preview's fingerprint is that tree id: the branch's code, never the working tree,
and no file is hashed and no Node started to know whether it changed.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ampflow_dagster.errors import AmpflowError, ConfigurationError
from ampflow_dagster.preview_config import PreviewSettings

PREVIEW_PREFIX = "p-"
SLUG_CHARACTERS = 8


@dataclass(frozen=True)
class BranchTip:
    """A branch that matches [previews], at its tip: the trees its preview is built and seeded from."""

    branch: str
    commit: str
    amplify_tree: str | None  # None: the branch has no amplify/ (nothing to deploy)
    seed_tree: str | None  # None: no seed_data/<seed_from>/ at that commit

    @property
    def environment(self) -> str:
        return preview_environment(self.branch)


def preview_environment(branch: str) -> str:
    """A branch's preview environment name: `p-<up to 8 of its last part>-<4 hex>`, at most 15 characters.

    Stable for a branch, different for two branches (the hash is of the whole name), and a name Amplify
    accepts in a stack name (lowercase letters, digits, hyphens).
    """
    last = branch.rstrip("/").rsplit("/", 1)[-1].lower()
    slug = re.sub(r"[^a-z0-9]+", "-", last).strip("-")[:SLUG_CHARACTERS].strip("-") or "branch"
    digest = hashlib.sha1(branch.encode()).hexdigest()[:4]
    return f"{PREVIEW_PREFIX}{slug}-{digest}"


def matching_branches(root: Path, settings: PreviewSettings) -> list[BranchTip]:
    """Every branch of the repository at `root` that `settings` gives a preview, with its trees."""
    if not settings.branches:
        return []  # no [previews] any more: no branch gets one, and git is not asked
    refs = ["refs/heads"] + (["refs/remotes"] if settings.remote else [])
    listed = git(root, "for-each-ref", "--format=%(refname)%00%(objectname)", *refs)
    tips: list[tuple[str, str]] = []
    for line in listed.splitlines():
        ref, commit = line.split("\0")
        branch = ref.removeprefix("refs/heads/").removeprefix("refs/remotes/")
        if ref.endswith("/HEAD") or not settings.matches(branch):
            continue
        tips.append((branch, commit))
    if not tips:
        return []
    paths = [f"{commit}:{path}" for _, commit in tips for path in ("amplify", f"seed_data/{settings.seed_from}")]
    trees = tree_ids(root, paths)
    return [
        BranchTip(branch, commit, trees[f"{commit}:amplify"], trees[f"{commit}:seed_data/{settings.seed_from}"])
        for branch, commit in sorted(tips)
    ]


def tree_ids(root: Path, paths: list[str]) -> dict[str, str | None]:
    """The tree id of each `<commit>:<path>` (None where the path is missing or not a folder), in one git process."""
    answered = git(root, "cat-file", "--batch-check=%(objectname) %(objecttype)", stdin="\n".join(paths) + "\n")
    trees: dict[str, str | None] = {}
    for path, line in zip(paths, answered.splitlines(), strict=True):
        parts = line.split()
        trees[path] = parts[0] if len(parts) == 2 and parts[1] == "tree" else None
    return trees


def git(root: Path, *arguments: str, stdin: str | None = None, failed: Callable[[str], AmpflowError] | None = None) -> str:
    """`git <arguments>` in `root`, its output; `failed(stderr)` is the error when it fails (else the previews' one)."""
    try:
        done = subprocess.run(["git", *arguments], cwd=root, input=stdin, capture_output=True, text=True, check=False)
    except FileNotFoundError as error:
        raise ConfigurationError(
            "[previews] needs git, which is not on PATH.",
            "Install git, or remove [previews] from ampflow.toml.",
        ) from error
    if done.returncode != 0:
        stderr = done.stderr.strip()[-500:]
        raise failed(stderr) if failed else ConfigurationError(
            f"[previews]: `git {arguments[0]}` failed in {root}: {stderr}",
            "Previews need the app to be a git repository: run `git init` there, or remove [previews] from ampflow.toml.",
        )
    return done.stdout
