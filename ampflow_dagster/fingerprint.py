"""The one place that decides what "amplify/ changed" and "a seed file changed" mean.

Digests are remembered per file with its size and modification time, as git's index
does: a file whose stat is unchanged is not read again, so checking an unchanged tree
costs a stat per file.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

from ampflow_dagster.project import Project

# Generated or installed, never authored: a change here is not a change to the backend.
IGNORED_DIRECTORIES = {"node_modules", ".amplify", "cdk.out", "__pycache__", ".git"}
IGNORED_FILES = {"amplify_outputs.json", ".DS_Store"}
# Outside amplify/, these decide what Amplify's libraries do with it.
ROOT_FILES = ("package.json", "package-lock.json")
# A file modified this recently may change again within the same mtime tick: never trust its stat.
RACY_SECONDS = 2.0


class DigestCache:
    """sha256 per file, reused while (size, mtime) are unchanged; kept in .ampflow/digests.json."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.entries: dict[str, list] = {}
        self.changed = False
        try:
            self.entries = json.loads(path.read_text(encoding="utf-8"))
        except (FileNotFoundError, json.JSONDecodeError):
            self.entries = {}

    def digest(self, file: Path, stat: os.stat_result | None = None) -> str:
        stat = stat or file.stat()
        key = str(file)
        cached = self.entries.get(key)
        if cached and cached[0] == stat.st_size and cached[1] == stat.st_mtime_ns:
            return cached[2]
        value = _file_digest(file).hex()
        if time.time() - stat.st_mtime > RACY_SECONDS:
            self.entries[key] = [stat.st_size, stat.st_mtime_ns, value]
            self.changed = True
        return value

    def save(self) -> None:
        if not self.changed:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        temporary.write_text(json.dumps(self.entries), encoding="utf-8")
        temporary.replace(self.path)
        self.changed = False


def digest_cache(project: Project) -> DigestCache:
    return DigestCache(project.state_dir / "digests.json")


def amplify_files(project: Project) -> list[tuple[Path, os.stat_result]]:
    """Every authored file under amplify/, plus the app's package files, with their stat, in a stable order."""
    found = []
    for directory, subdirectories, files in os.walk(project.amplify_dir):
        subdirectories[:] = sorted(d for d in subdirectories if d not in IGNORED_DIRECTORIES)
        for name in sorted(files):
            if name not in IGNORED_FILES:
                path = Path(directory) / name
                found.append((path, path.stat()))
    for name in ROOT_FILES:
        path = project.root / name
        if path.is_file():
            found.append((path, path.stat()))
    return sorted(found, key=lambda entry: str(entry[0]))


def amplify_fingerprint(project: Project, cache: DigestCache | None = None) -> str:
    """A hash of the backend's sources: equal fingerprints synthesize the same backend."""
    own_cache = cache is None
    cache = cache or digest_cache(project)
    digest = hashlib.sha256()
    for path, stat in amplify_files(project):
        digest.update(path.relative_to(project.root).as_posix().encode())
        digest.update(b"\0")
        digest.update(cache.digest(path, stat).encode())
    if own_cache:
        cache.save()
    return digest.hexdigest()[:16]


def file_fingerprint(path: Path, cache: DigestCache | None = None) -> str:
    return (cache.digest(path) if cache else _file_digest(path).hex())[:16]


def _file_digest(path: Path) -> bytes:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.digest()
