"""The app's own package manager, so every piece of install advice names a command the user runs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

# Lockfile -> package manager, in the order a folder is checked. A workspace keeps its lockfile at
# its root, so the app's folder and then each parent is checked.
LOCKFILES = (
    ("pnpm-lock.yaml", "pnpm"),
    ("yarn.lock", "yarn"),
    ("bun.lock", "bun"),
    ("bun.lockb", "bun"),
    ("package-lock.json", "npm"),
    ("npm-shrinkwrap.json", "npm"),
)


@dataclass(frozen=True)
class PackageManager:
    name: str  # npm, pnpm, yarn or bun

    def install_command(self) -> str:
        """Installs what the app's package.json and lockfile declare."""
        return f"{self.name} install"

    def add_dev_command(self, *packages: str) -> str:
        """Adds (or upgrades) development dependencies of the app."""
        verb = "install --save-dev" if self.name == "npm" else "add --save-dev" if self.name == "pnpm" else "add --dev"
        return f"{self.name} {verb} {' '.join(packages)}"


def detect_package_manager(app_root: Path) -> PackageManager:
    """The package manager whose lockfile is nearest to the app (npm when there is none)."""
    for folder in (app_root, *app_root.resolve().parents):
        for lockfile, name in LOCKFILES:
            if (folder / lockfile).is_file():
                return PackageManager(name)
    return PackageManager("npm")
