"""`[previews]` in ampflow.toml: which git branches get an environment of their own, and how.

    [previews]
    branches = ["feature/*", "fix/*"]   # local branches matching any of these globs
    remote = false                      # also remote-tracking branches (origin/feature/x)
    target = "local"                    # or "sandbox": ampx sandbox --identifier <branch>
    seed_from = "development"           # which seed_data/<env>/ folder, read at the branch's commit
    prefix = "[{branch}]"
    keep_after_delete = "1d"            # a deleted branch's preview stays this long (s, m, h, d)

A mistake names the file, its line, and what to do.
"""

from __future__ import annotations

import fnmatch
import re
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ampflow_dagster.errors import ConfigurationError

PREVIEW_KEYS = ("branches", "remote", "target", "seed_from", "prefix", "keep_after_delete")
PREVIEW_TARGETS = ("local", "sandbox")
DURATION = re.compile(r"^(\d+)([smhd])$")
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# What git refuses in a branch name (git check-ref-format), but for the glob characters * ? [ ].
NOT_IN_A_BRANCH = re.compile(r"[\s~^:\\\x00-\x1f\x7f]|\.\.|@\{|//")


@dataclass(frozen=True)
class PreviewSettings:
    branches: tuple[str, ...]
    remote: bool = False
    target: str = "local"
    seed_from: str = "development"
    prefix: str = "[{branch}]"
    keep_after_delete_seconds: int = 86400

    def matches(self, branch: str) -> bool:
        """Whether a branch (`feature/x`, or `origin/feature/x` when remote) gets a preview."""
        return any(fnmatch.fnmatchcase(branch, pattern) for pattern in self.branches)

    def prefix_for(self, branch: str) -> str:
        return self.prefix.format(branch=branch)


def preview_settings(path: Path, values: Any, environments: list[str], seed_dir: Path) -> PreviewSettings:
    """[previews] read and checked; `environments` are the declared ones, `seed_dir` the app's seed_data/."""
    at = _Locator(path)
    if not isinstance(values, dict):
        raise ConfigurationError(f"{path}{at('previews')}: [previews] must be a table.", "Write it as [previews] with branches = [...].")
    unknown = sorted(set(values) - set(PREVIEW_KEYS))
    if unknown:
        raise ConfigurationError(
            f"{path}{at('previews', unknown[0])}: [previews] has unknown key(s) {', '.join(unknown)}.",
            f"Known keys: {', '.join(PREVIEW_KEYS)}.",
        )
    branches = values.get("branches")
    if not isinstance(branches, list) or not branches or not all(isinstance(pattern, str) for pattern in branches):
        raise ConfigurationError(
            f"{path}{at('previews', 'branches')}: [previews] branches must be a non-empty list of branch globs.",
            'Write e.g. branches = ["feature/*", "fix/*"].',
        )
    for pattern in branches:
        problem = _glob_problem(pattern)
        if problem:
            raise ConfigurationError(
                f"{path}{at('previews', 'branches')}: branch glob {pattern!r} {problem}.",
                'Write globs of git branch names, e.g. "feature/*" (* matches across slashes too).',
            )
    remote = values.get("remote", False)
    if not isinstance(remote, bool):
        raise ConfigurationError(f"{path}{at('previews', 'remote')}: remote must be true or false, not {remote!r}.",
                                 "Set remote = true to include remote-tracking branches, or leave it out.")
    target = values.get("target", "local")
    if target not in PREVIEW_TARGETS:
        raise ConfigurationError(f"{path}{at('previews', 'target')}: previews cannot deploy to target {target!r}.",
                                 f"Set target to {' or '.join(repr(name) for name in PREVIEW_TARGETS)}.")
    seed_from = values.get("seed_from", "development")
    if seed_from not in environments:
        raise ConfigurationError(
            f"{path}{at('previews', 'seed_from')}: seed_from {seed_from!r} is not an environment of ampflow.toml.",
            f"Set seed_from to one of: {', '.join(environments)} (its seed_data/<environment>/ files seed each preview).",
        )
    if not (seed_dir / str(seed_from)).is_dir():
        raise ConfigurationError(
            f"{path}{at('previews', 'seed_from')}: seed_from {seed_from!r} has no folder {seed_dir.name}/{seed_from}/.",
            f"Create {seed_dir.name}/{seed_from}/ with seed files, or set seed_from to an environment that has them.",
        )
    prefix = values.get("prefix", "[{branch}]")
    problem = _prefix_problem(prefix)
    if problem:
        raise ConfigurationError(f"{path}{at('previews', 'prefix')}: prefix {prefix!r} {problem}.",
                                 'Write e.g. prefix = "[{branch}]" ({branch} is the branch name).')
    keep = _seconds(values.get("keep_after_delete", "1d"))
    if keep is None:
        raise ConfigurationError(
            f"{path}{at('previews', 'keep_after_delete')}: keep_after_delete {values['keep_after_delete']!r} is not a duration.",
            'Write a number and a unit: "30m", "12h", "1d" ("0s" tears a deleted branch\'s preview down at once).',
        )
    return PreviewSettings(branches=tuple(branches), remote=remote, target=target, seed_from=seed_from,
                           prefix=prefix, keep_after_delete_seconds=keep)


def _glob_problem(pattern: str) -> str | None:
    if not pattern.strip():
        return "is empty"
    if NOT_IN_A_BRANCH.search(pattern):
        return "holds something no git branch name can (a space, ~ ^ : \\, '..', '@{' or '//')"
    if pattern.startswith(("/", "-")) or pattern.endswith(("/", ".", ".lock")):
        return "starts or ends as no git branch name can"
    if pattern.count("[") != pattern.count("]"):
        return "has an unclosed [...]"
    return None


def _prefix_problem(prefix: Any) -> str | None:
    if not isinstance(prefix, str) or not prefix.strip() or prefix != prefix.strip():
        return "must be a non-empty string without surrounding spaces"
    try:
        fields = [name for _, name, _, _ in string.Formatter().parse(prefix) if name is not None]
    except ValueError as error:
        return f"is not a template ({error})"
    others = sorted(set(fields) - {"branch"})
    return f"names {', '.join('{' + name + '}' for name in others)}; only {{branch}} is known" if others else None


def _seconds(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and value >= 0:
        return value
    found = DURATION.match(value) if isinstance(value, str) else None
    return int(found.group(1)) * UNITS[found.group(2)] if found else None


class _Locator:
    """` line N` of a table's header or one of its keys in the file, for an error message; empty if not found."""

    def __init__(self, path: Path) -> None:
        self.lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []

    def __call__(self, table: str, key: str | None = None) -> str:
        inside = False
        for number, line in enumerate(self.lines, start=1):
            stripped = line.strip()
            if stripped.startswith("["):
                inside = stripped.split("#", 1)[0].strip() == f"[{table}]"
                if inside and key is None:
                    return f" line {number}"
            elif inside and key is not None and re.match(rf"^{re.escape(key)}\s*=", stripped):
                return f" line {number}"
        return ""
