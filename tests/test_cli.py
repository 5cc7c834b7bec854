"""The `ampflow` console script, end to end on the embedded emulator and the project's Dagster instance."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import dagster as dg
from dagster._core.instance.ref import InstanceRef
import pytest

from ampflow_dagster.cli.exit_codes import ExitCode
from ampflow_dagster.targets.servers import process_alive

from cli import AMPFLOW, ampflow, quiet_dagster_home
from conftest import App
from dagster_ui import free_port, processes_with, wait_for


@pytest.fixture
def dagster_home(tmp_path: Path) -> Path:
    return quiet_dagster_home(tmp_path / "dagster_home")


def test_verbs_do_what_the_npm_scripts_did(app: App, dagster_home: Path) -> None:
    dev = ampflow(app.root, "dev", dagster_home=dagster_home)
    assert dev.returncode == 0, dev.stderr
    assert "backend_deployment: deployment=deployed" in dev.stdout and "amplify_dev [development] succeeded" not in dev.stderr
    prod = ampflow(app.root, "prod", dagster_home=dagster_home)
    assert prod.returncode == 0, prod.stderr
    assert sorted(i["content"] for i in app.items("production", "Todo")) == ["[PROD] Welcome to the app"]

    again = ampflow(app.root, "deploy", "development", dagster_home=dagster_home)
    assert again.returncode == 0 and "deployment=skipped" in again.stdout

    todos = app.root / "seed_data" / "development" / "Todo.jsonl"
    todos.write_text(todos.read_text() + '{"content": "From the CLI"}\n')
    seeded = ampflow(app.root, "seed", "development", "--model", "Todo", dagster_home=dagster_home)
    assert seeded.returncode == 0, seeded.stderr
    assert "seeded_todo: items_written=1, items_unchanged=3" in seeded.stdout
    assert "seeded_task" not in seeded.stdout

    status = ampflow(app.root, "status", dagster_home=dagster_home)
    assert status.returncode == 0, status.stderr
    assert "stale: nothing" in status.stdout
    assert f"{app.table_name('development', 'Todo')}: ACTIVE, 4 item(s)" in status.stdout

    cleaned = ampflow(app.root, "clean", "development", dagster_home=dagster_home)
    assert cleaned.returncode == 0, cleaned.stderr
    assert all(app.items("development", model) == [] for model in ("Todo", "Task", "Project"))
    assert len(app.items("production", "Todo")) == 1  # the other environment's items stay

    forced = ampflow(app.root, "force", "development", dagster_home=dagster_home)
    assert forced.returncode == 0 and "tables_recreated=5" in forced.stdout

    with dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(dagster_home))) as instance:
        jobs = [run.job_name for run in instance.get_runs()]
    assert set(jobs) == {"amplify_dev", "amplify_prod", "amplify_deploy", "amplify_seed", "amplify_clean", "amplify_force"}


def run_count(dagster_home: Path) -> int:
    with dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(dagster_home))) as instance:
        return len(instance.get_runs())


def test_dev_starts_no_run_when_everything_is_up_to_date(app: App, dagster_home: Path) -> None:
    assert ampflow(app.root, "dev", dagster_home=dagster_home).returncode == 0
    runs = run_count(dagster_home)
    again = ampflow(app.root, "dev", dagster_home=dagster_home)
    assert again.returncode == 0, again.stderr
    assert "development is up to date; no run started" in again.stdout
    assert "5 seed datasets unchanged, 5 tables match" in again.stdout
    assert run_count(dagster_home) == runs

    app.dynamodb().meta.client.delete_table(TableName=app.table_name("development", "Task"))  # drift the files cannot show
    repaired = ampflow(app.root, "dev", dagster_home=dagster_home)
    assert repaired.returncode == 0, repaired.stderr
    assert "backend_deployment: deployment=deployed" in repaired.stdout and "seeded_task: items_written=3" in repaired.stdout
    assert run_count(dagster_home) == runs + 1

    full = ampflow(app.root, "dev", "--full", dagster_home=dagster_home)
    assert full.returncode == 0 and "deployment=skipped" in full.stdout and "items_written=0" in full.stdout
    assert run_count(dagster_home) == runs + 2


def test_failures_exit_non_zero_with_the_reason(app: App, dagster_home: Path) -> None:
    unknown = ampflow(app.root, "deploy", "staging", dagster_home=dagster_home)
    assert unknown.returncode == 2
    assert "Unknown environment 'staging'" in unknown.stderr and "What to do:" in unknown.stderr
    (app.root / "seed_data" / "development" / "Todo.jsonl").write_text('{"content": "x", "priority": "SOON"}\n')
    failed = ampflow(app.root, "dev", dagster_home=dagster_home)
    assert failed.returncode == 1
    assert "amplify_dev [development] failed" in failed.stderr
    assert "Todo.jsonl:1: field 'priority'" in failed.stderr
    protected = ampflow(app.root, "force", "production", dagster_home=dagster_home)
    assert protected.returncode == 0  # empty tables: nothing to lose
    ampflow(app.root, "prod", dagster_home=dagster_home)
    refused = ampflow(app.root, "force", "production", dagster_home=dagster_home)
    assert refused.returncode == 1 and "protected environment 'production'" in refused.stderr


@contextmanager
def ampflow_ui_in_background(app: App, dagster_home: Path, log: Path, ignore_sigint: bool = False) -> Iterator[subprocess.Popen]:
    """`ampflow ui` started as a script starts `ampflow ui &` (with SIGINT ignored, as bash does, if asked), up and
    serving; whatever of it is left at the end is killed."""
    port = free_port()
    with log.open("wb") as output:
        process = subprocess.Popen(
            [AMPFLOW, "ui", "--port", str(port)], cwd=app.root, env={**os.environ, "DAGSTER_HOME": str(dagster_home)},
            stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
            preexec_fn=ignore_sigint_as_a_shell_does_for_a_background_job if ignore_sigint else None,
        )
    try:
        deadline = time.monotonic() + 180
        while not webserver_answers(port):
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(1)
        yield process
    finally:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait()


def webserver_answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=2) as response:
            return b"dagster_webserver_version" in response.read()
    except OSError:
        return False


def ignore_sigint_as_a_shell_does_for_a_background_job() -> None:
    """What bash does for `ampflow ui &` in a script: the job starts with SIGINT (and SIGQUIT) ignored."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGQUIT, signal.SIG_IGN)


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_ui_started_in_the_background_stops_on_a_signal_with_the_emulator_it_started(
    app: App, dagster_home: Path, tmp_path: Path, stop_signal: signal.Signals,
) -> None:
    log = tmp_path / "ui.log"
    with ampflow_ui_in_background(app, dagster_home, log, ignore_sigint=True) as process:
        emulator = app.emulator().listening()
        assert emulator is not None
        process.send_signal(stop_signal)
        asked = time.monotonic()
        process.wait(timeout=30)
        assert time.monotonic() - asked < 15, "ampflow ui took too long to stop"
        assert process.returncode == ExitCode.INTERRUPTED
    assert not process_alive(emulator.pid) and app.emulator().listening() is None
    wait_for(lambda: not processes_with("DAGSTER_HOME", str(dagster_home)), 5, "every process of the UI to be gone", 0.2)
    assert "Stopped the embedded emulator ampflow ui started" in log.read_text()


def test_ui_leaves_running_an_emulator_it_did_not_start(app: App, dagster_home: Path, tmp_path: Path) -> None:
    emulator = app.emulator().ensure_running()
    with ampflow_ui_in_background(app, dagster_home, tmp_path / "ui.log") as process:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        assert process.returncode == ExitCode.INTERRUPTED
    running = app.emulator().listening()
    assert running is not None and running.pid == emulator.pid
