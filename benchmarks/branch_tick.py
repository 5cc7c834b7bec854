"""What the branch sensor's tick costs over many previews, beside the git plumbing it needs.

A repository with an app's amplify/, seed_data/ and [previews], and N branches, each with a commit of its
own under amplify/, each already a preview that is deployed and seeded at its tip (the materializations
its runs record, in a real Dagster instance). ampflow's figure is the sensor's whole evaluation in the
steady state: ampflow.toml and the previews' records read, the branches and their trees read, the
instance's partitions read, and a decision per branch. The baseline is the two git processes that tick
runs, timed bare (`git for-each-ref` and one `git cat-file --batch-check` with the same input).
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import dagster as dg

from ampflow_dagster.branches import matching_branches
from ampflow_dagster.defs.branch_sensor import preview_tick
from ampflow_dagster.defs.partitions import ENVIRONMENTS, Blueprint
from ampflow_dagster.defs.records import FINGERPRINT_KEY, SEED_TREE_KEY
from ampflow_dagster.defs.resources import AmplifyAppResource
from ampflow_dagster.fingerprint import tree_fingerprint
from ampflow_dagster.names import BACKEND_DEPLOYMENT
from ampflow_dagster.project import Project

from benchmarks.common import Ratio, Result, median_time, temporary_directory

PREVIEWS = '[previews]\nbranches = ["feature/*"]\n'


def run(size: dict[str, int]) -> list[Result]:
    branches = 50 if size["repeats"] > 1 else 10
    repeats = 20 if size["repeats"] > 1 else 5
    result = Result("branch_tick", f"The branch sensor's tick over {branches} current previews")
    print(f"\n{result.title}", flush=True)
    with temporary_directory("branches") as directory, dg.instance_for_test() as instance:
        root = repository(directory / "app", branches)
        app = AmplifyAppResource(project_root=str(root))
        blueprint = Blueprint.of(Project(root))
        config = app.config()
        assert config.previews is not None
        tips = matching_branches(root, config.previews)
        assert len(tips) == branches and all(tip.amplify_tree for tip in tips)
        first = preview_tick(instance, app, config, blueprint, time.time())  # adds every preview and asks for its runs
        assert len(first.runs) == branches
        instance.add_dynamic_partitions(ENVIRONMENTS, first.added)
        deployed_and_seeded(instance, app, tips, blueprint)

        def tick() -> None:
            current = preview_tick(instance, app, app.config(), blueprint, time.time())
            assert not current.runs and not current.added, current.notes

        tick()  # finds each one current once; git's and the file system's caches warm
        paths = "".join(f"{tip.commit}:{path}\n" for tip in tips for path in ("amplify", "seed_data/development"))
        ours = median_time(tick, repeats)
        bare = median_time(lambda: plumbing(root, paths), repeats)
    result.figure("git for-each-ref + one git cat-file --batch-check, bare", f"{bare * 1000:.1f} ms (median of {repeats})")
    result.figure(f"ampflow's whole sensor tick, {branches} previews current", f"{ours * 1000:.1f} ms (median of {repeats})")
    result.ratio(Ratio("ampflow's tick / the git plumbing it needs", ours / bare, target=2, at_least=False))
    return [result]


def deployed_and_seeded(instance: dg.DagsterInstance, app: AmplifyAppResource, tips: list, blueprint: Blueprint) -> None:
    """What each preview's first run records: its deployment's fingerprint and each seeded asset's seed tree."""
    config = app.config()
    for tip in tips:
        environment = config.environment(tip.environment)
        instance.report_runless_asset_event(dg.AssetMaterialization(
            BACKEND_DEPLOYMENT, partition=tip.environment,
            metadata={FINGERPRINT_KEY: tree_fingerprint(tip.amplify_tree, environment), "commit": tip.commit}))
        for asset in blueprint.seeded_assets:
            instance.report_runless_asset_event(dg.AssetMaterialization(
                asset, partition=tip.environment, metadata={SEED_TREE_KEY: tip.seed_tree or "none"}))


def repository(root: Path, branches: int) -> Path:
    def git(*arguments: str) -> None:
        subprocess.run(["git", "-c", "user.name=b", "-c", "user.email=b@example.com", *arguments], cwd=root, check=True, capture_output=True)

    (root / "amplify" / "data").mkdir(parents=True)
    (root / "seed_data" / "development").mkdir(parents=True)
    (root / "amplify" / "backend.ts").write_text("// the app\n")
    (root / "seed_data" / "development" / "Todo.jsonl").write_text('{"content": "a"}\n')
    (root / "ampflow.toml").write_text(PREVIEWS)
    (root / ".gitignore").write_text(".ampflow/\n")
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

