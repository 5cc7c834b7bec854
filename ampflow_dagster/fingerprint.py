"""The one place that decides what "amplify/ changed" and "a seed file changed" mean.

Digests are remembered per file with its size and modification time, as git's index
does: a file whose stat is unchanged is not read again, so checking an unchanged tree
costs a stat per file.
"""

from __future__ import annotations

import hashlib
import json
import marshal
import os
import time
from array import array
from stat import S_ISREG
from pathlib import Path
from typing import Mapping

from ampflow_dagster.environments import Environment
from ampflow_dagster.project import Project

# Generated or installed, never authored: a change here is not a change to the backend.
IGNORED_DIRECTORIES = {"node_modules", ".amplify", "cdk.out", "__pycache__", ".git"}
IGNORED_FILES = {"amplify_outputs.json", ".DS_Store"}
# Outside amplify/, these decide what Amplify's libraries do with it.
ROOT_FILES = ("package.json", "package-lock.json")
# A file modified this recently may change again within the same mtime tick: never trust its stat.
RACY_NANOSECONDS = 2_000_000_000
UNKNOWN = "-" * 64  # the digest of a file too recently modified to remember


class DigestCache:
    """sha256 per file, reused while (size, mtime) are unchanged; kept in .ampflow/digests.bin.

    amplify/ is remembered a directory at a time: its file names, their (size, mtime) as
    one bytes value, and their digests as one string. An unchanged directory is then
    recognized by two comparisons rather than a lookup per file, and loading the cache
    creates a few objects per directory instead of several per file: both are paid on
    every sensor tick.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.files: dict[str, tuple[int, int, str]] = {}  # single files: the app's package files, seed files
        self.directories: dict[str, tuple[str, bytes, str]] = {}  # directory -> (names, stat signature, digests)
        self.changed = False
        self.hashed = 0  # files read since this cache was loaded: an unchanged tree reads none
        self.amplify: str | None = None  # amplify/'s fingerprint, computed once per cache (one sensor tick)
        try:
            loaded = marshal.loads(path.read_bytes())
            self.files, self.directories = dict(loaded["files"]), dict(loaded["directories"])
        except (FileNotFoundError, ValueError, EOFError, TypeError, KeyError):
            self.files, self.directories = {}, {}

    def digest(self, file: Path, stat: os.stat_result | None = None) -> str:
        """The digest of one file, read only if its stat changed since it was last read."""
        stat = stat or file.stat()
        key = str(file)
        cached = self.files.get(key)
        if cached is not None and cached[0] == stat.st_size and cached[1] == stat.st_mtime_ns:
            return cached[2]
        value = _file_digest(file).hex()
        self.hashed += 1
        if time.time_ns() - stat.st_mtime_ns > RACY_NANOSECONDS:
            self.files[key] = (stat.st_size, stat.st_mtime_ns, value)
            self.changed = True
        return value

    def tree(self, root: str) -> list[str]:
        """(relative directory, file names, digests) of every authored directory under `root`, flattened, in a stable order."""
        parts: list[str] = []
        visited: set[str] = set()
        self._walk(root, "", parts, visited, time.time_ns())
        prefix = root + os.sep
        for gone in [d for d in self.directories if (d == root or d.startswith(prefix)) and d not in visited]:
            del self.directories[gone]
            self.changed = True
        return parts

    def _walk(self, directory: str, relative: str, parts: list[str], visited: set[str], now_ns: int) -> None:
        try:
            with os.scandir(directory) as listing:
                entries = sorted(listing, key=_name)
        except FileNotFoundError:
            return
        visited.add(directory)
        names: list[str] = []
        stats = array("q")
        subdirectories = []
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                if entry.name not in IGNORED_DIRECTORIES:
                    subdirectories.append(entry)
            elif entry.name not in IGNORED_FILES:
                try:
                    stat = entry.stat()
                except FileNotFoundError:  # a dangling link, or a file removed while walking
                    continue
                if S_ISREG(stat.st_mode):
                    names.append(entry.name)
                    stats.append(stat.st_size)
                    stats.append(stat.st_mtime_ns)
        if names:
            joined, signature = "\0".join(names), stats.tobytes()
            cached = self.directories.get(directory)
            if cached is not None and cached[0] == joined and cached[1] == signature and UNKNOWN[0] not in cached[2]:
                digests = cached[2]
            else:
                digests, remembered = self._rehash(directory, names, stats, cached, now_ns)
                self.directories[directory] = (joined, signature, remembered)
                self.changed = True
            parts += (relative, joined, digests)
        for entry in subdirectories:
            self._walk(entry.path, f"{relative}{entry.name}/", parts, visited, now_ns)

    def _rehash(
        self, directory: str, names: list[str], stats: array, cached: tuple[str, bytes, str] | None, now_ns: int
    ) -> tuple[str, str]:
        """(digests, digests to remember) of a changed directory's files, reading only those whose stat changed.

        A file modified within the racy window is remembered as UNKNOWN, so it is read again next time.
        """
        known: dict[str, tuple[int, int, str]] = {}
        if cached is not None:
            old_stats = array("q")
            old_stats.frombytes(cached[1])
            for index, name in enumerate(cached[0].split("\0")):
                known[name] = (old_stats[2 * index], old_stats[2 * index + 1], cached[2][64 * index : 64 * index + 64])
        digests, remembered = [], []
        for index, name in enumerate(names):
            size, mtime_ns = stats[2 * index], stats[2 * index + 1]
            previous = known.get(name)
            if previous is not None and previous[:2] == (size, mtime_ns) and previous[2] != UNKNOWN:
                digests.append(previous[2])
                remembered.append(previous[2])
                continue
            value = _file_digest(Path(directory, name)).hex()
            self.hashed += 1
            digests.append(value)
            remembered.append(value if now_ns - mtime_ns > RACY_NANOSECONDS else UNKNOWN)
        return "".join(digests), "".join(remembered)

    def save(self) -> None:
        if not self.changed:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        temporary.write_bytes(marshal.dumps({"files": self.files, "directories": self.directories}))
        temporary.replace(self.path)
        self.changed = False


def _name(entry: os.DirEntry) -> str:
    return entry.name


def digest_cache(project: Project) -> DigestCache:
    return DigestCache(project.state_dir / "digests.bin")


def amplify_fingerprint(project: Project, cache: DigestCache | None = None) -> str:
    """A hash of the backend's sources (paths relative to the app, contents): equal fingerprints synthesize the same backend."""
    own_cache = cache is None
    cache = cache or digest_cache(project)
    if cache.amplify is not None:
        return cache.amplify
    parts = cache.tree(str(project.amplify_dir))
    for name in ROOT_FILES:
        path = project.root / name
        if path.is_file():
            parts += ("..", name, cache.digest(path))
    if own_cache:
        cache.save()
    cache.amplify = hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]
    return cache.amplify


def backend_fingerprint(project: Project, environment: Environment, cache: DigestCache | None = None) -> str:
    """What an environment's synthesis depends on: amplify/, and the variables it declares for backend.ts.

    Without declared variables it is amplify/'s fingerprint; with them, different values
    never pass for the same backend (nor reuse its cached synthesis).
    """
    return with_variables(amplify_fingerprint(project, cache), environment)


def tree_fingerprint(amplify_tree: str, environment: Environment) -> str:
    """A preview's fingerprint: the git tree id of amplify/ at its commit (content-addressed: no file is read)."""
    return with_variables(f"git-{amplify_tree[:16]}", environment)


def with_variables(amplify: str, environment: Environment) -> str:
    """amplify/'s fingerprint, with the variables `environment` declares for backend.ts folded in."""
    if not environment.variables:
        return amplify
    digest = variables_digest({variable.name: variable.resolve() for variable in environment.variables})
    return hashlib.sha256(f"{amplify}\0{digest}".encode()).hexdigest()[:16]


def variables_digest(variables: Mapping[str, str | None]) -> str:
    """A short hash of variables' names and values ("" when there are none); an unset one (None) counts as a value of its own."""
    if not variables:
        return ""
    return hashlib.sha256(json.dumps(sorted(variables.items())).encode()).hexdigest()[:16]


def file_fingerprint(path: Path, cache: DigestCache | None = None) -> str:
    return (cache.digest(path) if cache else _file_digest(path).hex())[:16]


def _file_digest(path: Path) -> bytes:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.digest()
