"""Where an Amplify project's parts live on disk."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from ampflow_dagster.errors import ConfigurationError

CONFIG_FILE_NAME = "ampflow.toml"
PROJECT_ROOT_VARIABLE = "AMPFLOW_PROJECT_ROOT"


@dataclass(frozen=True)
class Project:
    """An Amplify Gen 2 app checked out at `root` (holds amplify/ and seed_data/)."""

    root: Path

    @property
    def amplify_dir(self) -> Path:
        return self.root / "amplify"

    @property
    def seed_dir(self) -> Path:
        return self.root / "seed_data"

    @property
    def config_file(self) -> Path:
        return self.root / CONFIG_FILE_NAME

    @property
    def state_dir(self) -> Path:
        """ampflow's working state: synthesis cache and the embedded emulator."""
        return self.root / ".ampflow"

    @property
    def clients_dir(self) -> Path:
        return self.root / "clients"

    @property
    def node_bin(self) -> Path:
        return self.root / "node_modules" / ".bin"

    def client_dir(self, environment: str) -> Path:
        return self.clients_dir / environment

    def seed_folder(self, environment: str) -> Path:
        """Where `environment`'s seed files are: seed_data/<environment>/."""
        return self.seed_dir / environment

    def package_name(self) -> str:
        """The app's package.json name: Amplify's sandbox namespace."""
        package_file = self.root / "package.json"
        try:
            name = json.loads(package_file.read_text(encoding="utf-8")).get("name")
        except FileNotFoundError as error:
            raise ConfigurationError(
                f"{package_file} does not exist.",
                "Run ampflow from the root of an Amplify Gen 2 app (the folder with package.json and amplify/), or "
                "name it with `ampflow --project <folder>`.",
            ) from error
        except json.JSONDecodeError as error:
            raise ConfigurationError(
                f"{package_file} is not valid JSON (line {error.lineno}: {error.msg}).",
                f"Fix the JSON at line {error.lineno} of {package_file} (npm reads the same file), then run again.",
            ) from error
        if not isinstance(name, str) or not name:
            raise ConfigurationError(
                f"{package_file} has no \"name\".",
                "Give the app a name in package.json: Amplify uses it to name the backend's stacks.",
            )
        return name


@dataclass(frozen=True)
class PreviewProject(Project):
    """A preview's project: the branch's files (`root`, its worktree), the app's configuration and state (`home`).

    Synthesis and seed files come from the branch; ampflow.toml, .ampflow/ (locks, caches, the emulator
    the previews share with every local environment) and clients/ are the app's own.
    """

    home: Path = Path()
    environment: str = ""
    seed_from: str = "development"
    commit: str = ""  # the branch commit checked out at `root`
    amplify_tree: str | None = None  # git's tree id of amplify/ at that commit: the preview's fingerprint
    seed_tree: str | None = None  # and of seed_data/<seed_from>/: what its seed data is

    @property
    def config_file(self) -> Path:
        return self.home / CONFIG_FILE_NAME

    @property
    def state_dir(self) -> Path:
        return self.home / ".ampflow"

    @property
    def clients_dir(self) -> Path:
        return self.home / "clients"

    def seed_folder(self, environment: str) -> Path:
        """The preview's seed files are the branch's seed_data/<seed_from>/."""
        return self.seed_dir / (self.seed_from if environment == self.environment else environment)

    def package_name(self) -> str:
        """The app's name, whatever the branch's package.json says: a preview's resources are named as the app's."""
        return Project(self.home).package_name()


def discover_project(start: Path | None = None) -> Project:
    """The project named by AMPFLOW_PROJECT_ROOT, else the nearest folder holding ampflow.toml.

    The one place that decides which app ampflow works on: the CLI, `dagster dev` and the
    code location all ask it. Without ampflow.toml there is no project: ampflow never
    guesses one (it would deploy and seed an app the user does not have).
    """
    configured = os.environ.get(PROJECT_ROOT_VARIABLE)
    if configured:
        root = Path(configured).expanduser().resolve()
        if not (root / CONFIG_FILE_NAME).is_file():
            raise ConfigurationError(
                f"{PROJECT_ROOT_VARIABLE}={configured} has no {CONFIG_FILE_NAME}.",
                f"Run `ampflow init` in {root} (the root of your Amplify Gen 2 app), or point {PROJECT_ROOT_VARIABLE} "
                "at a folder that has one.",
            )
        return Project(root)
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / CONFIG_FILE_NAME).is_file():
            return Project(folder)
    raise ConfigurationError(
        f"No {CONFIG_FILE_NAME} in {here} or any folder above it: this is not an ampflow project yet.",
        "Run `ampflow init` in the root of your Amplify Gen 2 app (the folder with package.json and amplify/), "
        "or pass --project PATH.",
    )
