"""amplify/'s fingerprint: a stat per file on an unchanged tree, one read per edited file, nothing else counts."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from ampflow_dagster.fingerprint import amplify_fingerprint, digest_cache
from ampflow_dagster.project import Project

OLD = time.time_ns() - 60_000_000_000  # a minute ago: outside the racy window


def make_app(root: Path) -> Project:
    for number in range(30):
        path = root / "amplify" / f"part{number % 3}" / f"file{number}.ts"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"export const value = {number};\n")
    (root / "amplify" / "node_modules" / "dep").mkdir(parents=True)
    (root / "amplify" / "node_modules" / "dep" / "index.js").write_text("module.exports = 1;\n")
    (root / "package.json").write_text('{"name": "app"}\n')
    for directory, _, files in os.walk(root):
        for name in files:
            os.utime(os.path.join(directory, name), ns=(OLD, OLD))
    return Project(root)


def fingerprint(project: Project) -> tuple[str, int]:
    cache = digest_cache(project)
    value = amplify_fingerprint(project, cache)
    cache.save()
    return value, cache.hashed


def test_an_unchanged_tree_reads_no_file_and_an_edit_reads_one(tmp_path: Path) -> None:
    project = make_app(tmp_path / "app")
    first, hashed = fingerprint(project)
    assert hashed == 31  # 30 sources and package.json, never node_modules
    assert fingerprint(project) == (first, 0)

    edited = project.amplify_dir / "part1" / "file4.ts"
    edited.write_text("export const value = 'changed';\n")
    os.utime(edited, ns=(OLD + 1, OLD + 1))
    second, hashed = fingerprint(project)
    assert second != first and hashed == 1
    assert fingerprint(project) == (second, 0)


def test_what_counts_and_what_does_not(tmp_path: Path) -> None:
    project = make_app(tmp_path / "app")
    first, _ = fingerprint(project)
    (project.amplify_dir / "node_modules" / "dep" / "index.js").write_text("module.exports = 2;\n")
    assert fingerprint(project)[0] == first  # installed, not authored
    (project.amplify_dir / "part2" / "file5.ts").unlink()
    removed, _ = fingerprint(project)
    assert removed != first
    (project.amplify_dir / "part2" / "file5.ts").write_text("export const value = 5;\n")
    os.utime(project.amplify_dir / "part2" / "file5.ts", ns=(OLD, OLD))
    assert fingerprint(project)[0] == first  # same content, same fingerprint
    (project.root / "package.json").write_text('{"name": "app", "version": "2"}\n')
    assert fingerprint(project)[0] != first  # the package files decide what Amplify's libraries do


def test_a_file_edited_within_the_racy_window_is_read_again(tmp_path: Path) -> None:
    project = make_app(tmp_path / "app")
    fingerprint(project)
    fresh = project.amplify_dir / "part0" / "file0.ts"
    fresh.write_text("export const value = 'now';\n")  # mtime: now
    now, hashed = fingerprint(project)
    assert hashed == 1
    again, hashed = fingerprint(project)
    assert (again, hashed) == (now, 1)  # its stat could hide a second edit in the same tick: not trusted yet


def test_the_fingerprint_does_not_depend_on_where_the_app_is(tmp_path: Path) -> None:
    project = make_app(tmp_path / "app")
    moved = tmp_path / "elsewhere" / "app"
    shutil.copytree(project.root, moved)
    assert fingerprint(project)[0] == fingerprint(Project(moved))[0]
