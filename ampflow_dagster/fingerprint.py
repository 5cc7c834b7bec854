"""The one place that decides what "amplify/ changed" and "a seed file changed" mean."""

from __future__ import annotations

import hashlib
from pathlib import Path

from ampflow_dagster.project import Project

# Generated or installed, never authored: a change here is not a change to the backend.
IGNORED_DIRECTORIES = {"node_modules", ".amplify", "cdk.out", "__pycache__", ".git"}
IGNORED_FILES = {"amplify_outputs.json", ".DS_Store"}
# Outside amplify/, these decide what Amplify's libraries do with it.
ROOT_FILES = ("package.json", "package-lock.json")


def amplify_files(project: Project) -> list[Path]:
    """Every authored file under amplify/, plus the app's package files, in a stable order."""
    found = []
    for path in project.amplify_dir.rglob("*"):
        relative = path.relative_to(project.amplify_dir)
        if any(part in IGNORED_DIRECTORIES for part in relative.parts[:-1]) or relative.parts[0] in IGNORED_DIRECTORIES:
            continue
        if path.is_file() and path.name not in IGNORED_FILES:
            found.append(path)
    found.extend(project.root / name for name in ROOT_FILES if (project.root / name).is_file())
    return sorted(found)


def amplify_fingerprint(project: Project) -> str:
    """A hash of the backend's sources: equal fingerprints synthesize the same backend."""
    digest = hashlib.sha256()
    for path in amplify_files(project):
        digest.update(path.relative_to(project.root).as_posix().encode())
        digest.update(b"\0")
        digest.update(_file_digest(path))
    return digest.hexdigest()[:16]


def file_fingerprint(path: Path) -> str:
    return _file_digest(path).hex()[:16]


def _file_digest(path: Path) -> bytes:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.digest()
