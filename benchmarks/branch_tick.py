"""What reading the previews' branches costs a sensor tick, beside the git plumbing it needs.

A repository with an app's amplify/ and seed_data/ and N branches, each with a commit of its own
under amplify/: ampflow's `matching_branches` (every matching tip and its amplify/ and seed tree
ids), beside the two git processes it runs, timed bare (`git for-each-ref` and one
`git cat-file --batch-check` with the same input).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from ampflow_dagster.branches import matching_branches
from ampflow_dagster.preview_config import PreviewSettings

from benchmarks.common import Ratio, Result, median_time, temporary_directory

SETTINGS = PreviewSettings(branches=("feature/*",))


def run(size: dict[str, int]) -> list[Result]:
    branches = 50 if size["repeats"] > 1 else 10
    repeats = 20 if size["repeats"] > 1 else 5
    result = Result("branch_tick", f"Reading {branches} preview branches' trees, as the branch sensor's tick does")
    print(f"\n{result.title}", flush=True)
    with temporary_directory("branches") as directory:
        root = repository(directory / "app", branches)
        tips = matching_branches(root, SETTINGS)
        assert len(tips) == branches and all(tip.amplify_tree for tip in tips)
        paths = "".join(f"{tip.commit}:{path}\n" for tip in tips for path in ("amplify", "seed_data/development"))
        matching_branches(root, SETTINGS)  # warm: git's and the file system's caches
        ours = median_time(lambda: matching_branches(root, SETTINGS), repeats)
        bare = median_time(lambda: plumbing(root, paths), repeats)
    result.figure("git for-each-ref + one git cat-file --batch-check, bare", f"{bare * 1000:.1f} ms (median of {repeats})")
    result.figure("ampflow matching_branches (the same two processes, parsed)", f"{ours * 1000:.1f} ms (median of {repeats})")
    result.ratio(Ratio("ampflow / the git plumbing it needs", ours / bare, target=2, at_least=False))
    return [result]


def repository(root: Path, branches: int) -> Path:
    def git(*arguments: str) -> None:
        subprocess.run(["git", "-c", "user.name=b", "-c", "user.email=b@example.com", *arguments], cwd=root, check=True, capture_output=True)

    (root / "amplify" / "data").mkdir(parents=True)
    (root / "seed_data" / "development").mkdir(parents=True)
    (root / "amplify" / "backend.ts").write_text("// the app\n")
    (root / "seed_data" / "development" / "Todo.jsonl").write_text('{"content": "a"}\n')
    git("init", "-q", "-b", "main")
    git("add", "-A")
    git("commit", "-q", "-m", "app")
    for number in range(branches):
        git("checkout", "-q", "-b", f"feature/change-{number}", "main")
        (root / "amplify" / "data").mkdir(exist_ok=True)  # git removed it, empty, on the way back to main
        (root / "amplify" / "data" / "resource.ts").write_text(f"// the schema of branch {number}\n")
        git("add", "-A")
        git("commit", "-q", "-m", f"branch {number}")
    git("checkout", "-q", "main")
    return root


def plumbing(root: Path, paths: str) -> None:
    subprocess.run(["git", "for-each-ref", "--format=%(refname)%00%(objectname)", "refs/heads"], cwd=root, check=True, capture_output=True)
    subprocess.run(["git", "cat-file", "--batch-check=%(objectname) %(objecttype)"], cwd=root, input=paths, check=True,
                   capture_output=True, text=True)

