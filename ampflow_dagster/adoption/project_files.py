"""The files `ampflow init` adds to an app, and how it writes them: whole, atomically, never over an existing file."""

from __future__ import annotations

import json
import os
import re
import secrets
import tempfile
import textwrap
from pathlib import Path

from ampflow_dagster.environments import DEFAULT_ENVIRONMENTS, ReconciliationSettings
from ampflow_dagster.seeding.label_fields import LabelChoice

COMMENT_WIDTH = 92
PROJECT_ID_NAME_LENGTH = 23  # + "-" + 8 hex digits: environments.py takes at most 32 characters

WORKSPACE_YAML = """\
# The Dagster code location of this app's ampflow workflow. working_directory is relative to
# where Dagster starts (`ampflow ui` starts it in this folder), so the app can move.
load_from:
  - python_module:
      module_name: ampflow_dagster.definitions
      location_name: ampflow
      working_directory: .
"""

# What ampflow writes that is not versioned; each entry is matched also without the leading slash.
GITIGNORE_HEADING = "# ampflow"
GITIGNORE_LINES = ("/.ampflow/", "/dagster_home/*", "!/dagster_home/dagster.yaml", "/clients/", "/amplify_configure_local.js")


def write_new_file(path: Path, text: str) -> bool:
    """Write `path` whole (temp file + hard link) unless it exists: False, and nothing touched, when it does.

    Linking fails when the name exists, so a file made between a check and the write is
    never replaced either.
    """
    if path.exists() or path.is_symlink():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = _temporary_copy(path, text)
    try:
        try:
            os.link(temporary, path)
        except FileExistsError:
            return False
        except OSError:  # a file system without hard links: the check above is then the guard
            if path.exists():
                return False
            os.replace(temporary, path)
    finally:
        if temporary.exists():
            temporary.unlink()
    return True


def ensure_gitignore(path: Path) -> tuple[list[str], list[str]]:
    """Append the ignore lines ampflow needs and `path` lacks, under one heading; returns (added, notes)."""
    existing = path.read_text(encoding="utf-8") if path.is_file() else ""
    present = {_normalized(line) for line in existing.splitlines()}
    missing = [line for line in GITIGNORE_LINES if _normalized(line) not in present]
    notes = []
    if {"dagster_home", "dagster_home/"} & present:
        notes.append(
            ".gitignore ignores the whole dagster_home folder, so git cannot version dagster_home/dagster.yaml; "
            "replace that line with dagster_home/* to keep the instance's configuration in the repository."
        )
    if missing:
        separator = "" if not existing or existing.endswith("\n") else "\n"
        spacer = "\n" if existing.strip() else ""
        block = "\n".join((GITIGNORE_HEADING, *missing)) + "\n"
        mode = path.stat().st_mode & 0o777 if path.exists() else None
        temporary = _temporary_copy(path, existing + separator + spacer + block)
        if mode is not None:
            os.chmod(temporary, mode)
        os.replace(temporary, path)
    return missing, notes


def _normalized(line: str) -> str:
    """`/clients/`, `clients/` and `clients` ignore the same folder at the root of the app."""
    text = line.strip()
    negated = text.startswith("!")
    text = text.lstrip("!").lstrip("/")
    if text.endswith("/") and not text.endswith("*/"):
        text = text[:-1]
    return ("!" if negated else "") + text


def _temporary_copy(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
        stream.write(text)
        stream.flush()
        os.fsync(stream.fileno())
    os.chmod(name, 0o644)
    return Path(name)


def new_project_id(package_name: str) -> str:
    """A project_id for a new ampflow.toml: the package name, readable, and random digits that tell two apps apart."""
    name = re.sub(r"[^a-z0-9]+", "-", package_name.lower()).strip("-")[:PROJECT_ID_NAME_LENGTH].strip("-") or "app"
    return f"{name}-{secrets.token_hex(4)}"


def ampflow_toml(
    project_id: str, choices: dict[str, LabelChoice], unlabeled_help: dict[str, str], not_written: dict[str, list[str]] | None = None,
) -> str:
    """ampflow.toml for a new app: its project_id, the default environments, each model's label field and why (and why
    init wrote no example of it, in `not_written`), the schedule commented."""
    lines = [
        "# ampflow's configuration for this Amplify Gen 2 app.",
        "",
        "# Keeps this app's local tables apart from another app's with the same package name. Keep it:",
        "# a new project_id gives the local environments new, empty tables.",
        f"project_id = {_toml_value(project_id)}",
        "",
        "# Shown as the owners of every ampflow asset in the Dagster UI: emails or team:<name>.",
        '# owners = ["team:my-team", "you@example.com"]',
        "",
        "# ampflow's environments: each is a Dagster partition. Add a table to add one.",
        "#   prefix             goes on each seeded item's label field, e.g. \"[DEV] Buy milk\"",
        "#   target             where the backend is deployed: \"local\" (the embedded emulator),",
        "#                      \"sandbox\" (npx ampx sandbox) or \"branch\" (npx ampx pipeline-deploy)",
        "#   automated_deploys  whether ampflow's automation may deploy it without a person",
        "#   protected          whether destructive table changes are refused",
    ]
    for name, values in DEFAULT_ENVIRONMENTS.items():
        lines += ["", f"[environments.{name}]"]
        lines += [f"{key} = {_toml_value(value)}" for key, value in values.items()]
    lines += [
        "",
        "# Which field carries the environment prefix on each model's seed items. ampflow only uses",
        "# a plain String field that no key, index, relationship or authorization rule reads (a",
        "# prefix there would break lookups); by default one named as text for people (name,",
        "# title, content, ...). Any such String can be named here.",
    ]
    for model, choice in choices.items():
        lines.append("")
        no_example = [line for why in (not_written or {}).get(model, ()) for line in _comment(why)]
        if choice.field is not None:
            lines += [*_comment(f"{model}: {choice.reason}."), *no_example]
            lines += [f"[models.{model}]", f"label_field = {_toml_value(choice.field)}"]
        else:
            why = f"{model}'s seed items carry no prefix: {choice.reason}." if not choice.configured else f"{model} is not seeded: {choice.reason}"
            lines += [*_comment(f"{why} {unlabeled_help.get(model, '')}".strip()), *no_example]
            lines += [f"# [models.{model}]", '# label_field = "..."']
    defaults = ReconciliationSettings()
    lines += [
        "",
        "# The schedule that reconciles an environment daily: deploys only if stale, re-verifies",
        "# the tables and restores seed items that went missing or were changed by hand.",
        "# [reconciliation]",
        f"# environment = {_toml_value(defaults.environment)}",
        f"# cron = {_toml_value(defaults.cron)}",
        f"# timezone = {_toml_value(defaults.timezone)}",
        "",
        "# A preview environment for each git branch that matches: deployed from the branch's own",
        "# amplify/, seeded from seed_data/<seed_from>/ at its commit, torn down after its branch is gone.",
        "# [previews]",
        '# branches = ["feature/*", "fix/*"]',
        '# seed_from = "development"',
        '# prefix = "[{branch}]"',
        '# keep_after_delete = "1d"',
    ]
    return "\n".join(lines) + "\n"


def _comment(text: str) -> list[str]:
    flat = " ".join(text.split())
    return [f"# {line}" for line in textwrap.wrap(flat, COMMENT_WIDTH, break_long_words=False, break_on_hyphens=False)]


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a JSON string without \u escapes is a TOML basic string
    raise TypeError(f"ampflow.toml has no {type(value).__name__} values")
