"""The one place that decides what "amplify/ changed" and "a seed file changed" mean.

Digests are remembered per file with its size and modification time, as git's index
does: a file whose stat is unchanged is not read again, so checking an unchanged tree
costs a stat per file.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import time
from stat import S_ISREG
from pathlib import Path

from ampflow_dagster.project import Project

# Generated or installed, never authored: a change here is not a change to the backend.
IGNORED_DIRECTORIES = {"node_modules", ".amplify", "cdk.out", "__pycache__", ".git"}
IGNORED_FILES = {"amplify_outputs.json", ".DS_Store"}
# Outside amplify/, these decide what Amplify's libraries do with it.
ROOT_FILES = ("package.json", "package-lock.json")
# A file modified this recently may change again within the same mtime tick: never trust its stat.
RACY_NANOSECONDS = 2_000_000_000


class DigestCache:
    """sha256 per file, reused while (size, mtime) are unchanged; kept in .ampflow/digests.bin.

    Keys are paths relative to `root`. marshal, not JSON: loading it is part of every sensor tick,
    and marshal reads ten thousand entries about three times faster.
    """

    def __init__(self, path: Path, root: Path) -> None:
        self.path, self.root = path, root
        self.entries: dict[str, tuple[int, int, str]] = {}
        self.changed = False
        self.hashed = 0  # files read since this cache was loaded: an unchanged tree reads none
        self.amplify: str | None = None  # amplify/'s fingerprint, computed once per cache (one sensor tick)
        try:
            loaded = marshal.loads(path.read_bytes())
            if isinstance(loaded, dict):
                self.entries = loaded
        except (FileNotFoundError, ValueError, EOFError, TypeError):
            self.entries = {}

    def digest(self, file: Path, stat: os.stat_result | None = None) -> str:
        stat = stat or file.stat()
        try:
            key = file.relative_to(self.root).as_posix()
        except ValueError:
            key = str(file)
        return self.digest_of(key, stat.st_size, stat.st_mtime_ns, time.time_ns())

    def digest_of(self, key: str, size: int, mtime_ns: int, now_ns: int) -> str:
        """The digest of the file at `key` with this stat; reads the file only if the stat changed."""
        cached = self.entries.get(key)
        if cached is not None and cached[0] == size and cached[1] == mtime_ns:
            return cached[2]
        value = _file_digest(self.root / key).hex()
        self.hashed += 1
        if now_ns - mtime_ns > RACY_NANOSECONDS:
            self.entries[key] = (size, mtime_ns, value)
            self.changed = True
        return value

    def save(self) -> None:
        if not self.changed:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        temporary.write_bytes(marshal.dumps(self.entries))
        temporary.replace(self.path)
        self.changed = False


def digest_cache(project: Project) -> DigestCache:
    return DigestCache(project.state_dir / "digests.bin", project.root)


def amplify_files(project: Project) -> list[tuple[str, int, int]]:
    """Every authored file under amplify/, plus the app's package files: (path relative to the app, size, mtime_ns), sorted.

    One stat per file and no other work: this runs on every sensor tick.
    """
    found: list[tuple[str, int, int]] = []
    _walk(str(project.amplify_dir), "amplify/", found)
    for name in ROOT_FILES:
        try:
            stat = (project.root / name).stat()
        except FileNotFoundError:
            continue
        found.append((name, stat.st_size, stat.st_mtime_ns))
    found.sort()
    return found


def _walk(directory: str, relative: str, found: list[tuple[str, int, int]]) -> None:
    try:
        entries = os.scandir(directory)
    except FileNotFoundError:
        return
    with entries:
        for entry in entries:
            name = entry.name
            if entry.is_dir(follow_symlinks=False):
                if name not in IGNORED_DIRECTORIES:
                    _walk(entry.path, f"{relative}{name}/", found)
            elif name not in IGNORED_FILES:
                try:
                    stat = entry.stat()
                except FileNotFoundError:  # a dangling link, or a file removed while walking
                    continue
                if S_ISREG(stat.st_mode):
                    found.append((relative + name, stat.st_size, stat.st_mtime_ns))


def amplify_fingerprint(project: Project, cache: DigestCache | None = None) -> str:
    """A hash of the backend's sources: equal fingerprints synthesize the same backend."""
    own_cache = cache is None
    cache = cache or digest_cache(project)
    if cache.amplify is not None:
        return cache.amplify
    now_ns, entries, parts = time.time_ns(), cache.entries, []
    for relative, size, mtime_ns in amplify_files(project):
        cached = entries.get(relative)  # DigestCache.digest_of inlined: this loop runs per file on every sensor tick
        if cached is not None and cached[0] == size and cached[1] == mtime_ns:
            parts += (relative, cached[2])
        else:
            parts += (relative, cache.digest_of(relative, size, mtime_ns, now_ns))
    if own_cache:
        cache.save()
    cache.amplify = hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]
    return cache.amplify


def file_fingerprint(path: Path, cache: DigestCache | None = None) -> str:
    return (cache.digest(path) if cache else _file_digest(path).hex())[:16]


def _file_digest(path: Path) -> bytes:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.digest()
