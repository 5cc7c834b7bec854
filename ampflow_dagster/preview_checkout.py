"""A preview's own copy of its branch: a git worktree under `.ampflow/previews/<environment>/checkout`.

The preview is built from the branch tip's files, never from the user's working tree: the worktree is
detached at the tip's commit and moved when the tip moves; the user's checkout, HEAD and index are
never touched. It runs with the app's installed packages when the branch's lockfile is the app's
(node_modules is a link), and with its own install when one was made there; otherwise it is refused,
with what to do.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from ampflow_dagster.branches import BranchTip, git
from ampflow_dagster.errors import DeploymentError
from ampflow_dagster.locks import exclusive_lock
from ampflow_dagster.project import Project

LOCKFILES = ("package-lock.json", "pnpm-lock.yaml", "yarn.lock", "bun.lock", "bun.lockb")


def checkout_dir(project: Project, environment: str) -> Path:
    return project.state_dir / "previews" / environment / "checkout"


def preview_checkout(project: Project, tip: BranchTip) -> Path:
    """The folder holding `tip`'s files for its preview, made or moved to the tip, with packages to synthesize with."""
    folder = checkout_dir(project, tip.environment)
    # A run's steps run side by side, each opening the preview: one makes or moves the worktree, the others wait.
    with exclusive_lock(folder.parent / "checkout.lock"):
        if not (folder / ".git").exists():
            shutil.rmtree(folder, ignore_errors=True)  # a half-made one
            _git(project.root, "worktree", "prune")  # and git's note of it
            _git(project.root, "worktree", "add", "--detach", "--quiet", str(folder), tip.commit)
        elif _git(folder, "rev-parse", "HEAD").strip() != tip.commit:
            _git(folder, "checkout", "--detach", "--quiet", "--force", tip.commit)
        _packages(project, folder, tip)
    return folder


def remove_preview_checkout(project: Project, environment: str) -> bool:
    """The preview's worktree removed and forgotten by git; whether there was one."""
    folder = checkout_dir(project, environment)
    if not folder.exists():
        return False
    link = folder / "node_modules"
    if link.is_symlink():
        link.unlink()  # the app's own install: never removed with the worktree
    _git(project.root, "worktree", "remove", "--force", str(folder))
    _git(project.root, "worktree", "prune")
    return True


def _packages(project: Project, folder: Path, tip: BranchTip) -> None:
    """node_modules for the worktree: a link to the app's when the lockfiles agree, else the worktree's own install."""
    modules = folder / "node_modules"
    if modules.exists() and not modules.is_symlink():
        return  # an install of the branch's own, made in the worktree
    differing = [name for name in LOCKFILES if _read(project.root / name) != _read(folder / name)]
    if differing:
        if modules.is_symlink():
            modules.unlink()
        raise DeploymentError(
            f"Branch {tip.branch} ({tip.commit[:12]}) has another {differing[0]} than the app's installed packages: "
            "its preview cannot be synthesized with them.",
            f"Install the branch's packages in its preview's checkout ({folder}: run your package manager's install there, "
            "e.g. `npm ci`), or bring the branch's lockfile in line with the app's.",
            code="PreviewPackagesDiffer",
        )
    if not modules.is_symlink() and (project.root / "node_modules").is_dir():
        modules.symlink_to(project.root / "node_modules")


def _read(path: Path) -> bytes | None:
    return path.read_bytes() if path.is_file() else None


def _git(root: Path, *arguments: str) -> str:
    def failed(stderr: str) -> DeploymentError:
        return DeploymentError(
            f"`git {' '.join(arguments[:2])}` failed in {root}: {stderr}",
            "Check the repository with `git worktree list` and `git status`, then run again.",
        )
    return git(root, *arguments, failed=failed)
