"""The servers ampflow leaves running on loopback have an owner: an emulator nothing uses, or whose project
is gone, exits by itself (its GraphQL endpoints with it); `ampflow status` shows what runs and `ampflow stop`
stops it. Real moto servers and AppSync simulators, the real `ampflow` command."""

from __future__ import annotations

import json
import os
import shutil
import signal
import time
from pathlib import Path

import boto3
import pytest

from ampflow_dagster.environments import load_config
from ampflow_dagster.errors import ConfigurationError
from ampflow_dagster.project import Project
from ampflow_dagster.targets.emulator import (
    DEFAULT_IDLE_TIMEOUT_SECONDS, IDLE_TIMEOUT_VARIABLE, EmbeddedEmulator, idle_timeout_seconds, project_emulator,
)
from ampflow_dagster.targets.servers import process_alive

from cli import ampflow, quiet_dagster_home
from conftest import App
from dagster_ui import wait_for


def wait_until_gone(pid: int, timeout: float, what: str) -> None:
    wait_for(lambda: not process_alive(pid), timeout, what, interval=0.1)


def test_an_emulator_in_use_stays_and_exits_once_unused_for_its_idle_timeout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(IDLE_TIMEOUT_VARIABLE, "2")
    emulator = EmbeddedEmulator(tmp_path / "emulator")
    running = emulator.ensure_running()
    try:
        dynamodb = boto3.client("dynamodb", endpoint_url=running.endpoint, region_name="us-east-1",
                                aws_access_key_id="t", aws_secret_access_key="t")
        used_until = time.monotonic() + 5
        while time.monotonic() < used_until:  # in use for over twice its idle timeout
            dynamodb.list_tables()
            time.sleep(0.5)
        assert process_alive(running.pid)
        unused_since = time.monotonic()
        wait_until_gone(running.pid, 20, "the unused emulator to exit")
        assert time.monotonic() - unused_since >= 1.5
        assert not emulator.server_file.exists() and emulator.running() is None
        assert "the embedded emulator exits: nothing used it for 2 s" in emulator.log_file.read_text()
    finally:
        emulator.stop()


def test_an_emulator_whose_project_folder_is_deleted_exits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(IDLE_TIMEOUT_VARIABLE, "0")  # never for being unused: only its folder going can stop it
    project = tmp_path / "app"
    running = EmbeddedEmulator(project / ".ampflow" / "emulator").ensure_running()
    try:
        shutil.rmtree(project)
        wait_until_gone(running.pid, 20, "the emulator of a deleted project to exit")
    finally:
        if process_alive(running.pid):
            os.killpg(running.pid, signal.SIGKILL)


def test_the_idle_timeout_comes_from_the_variable_else_ampflow_toml_else_two_hours(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(IDLE_TIMEOUT_VARIABLE, raising=False)
    project = Project(tmp_path)
    assert idle_timeout_seconds(project_emulator(project).idle_timeout) == DEFAULT_IDLE_TIMEOUT_SECONDS == 7200
    project.config_file.write_text('[emulator]\nidle_timeout = "1h"\n')
    with pytest.raises(ConfigurationError, match=r"\[emulator\]: idle_timeout '1h' is not a number of seconds"):
        load_config(project)
    project.config_file.write_text("[emulator]\nidle_timeout = 1\n")
    emulator = project_emulator(project)
    assert idle_timeout_seconds(emulator.idle_timeout) == 1
    monkeypatch.setenv(IDLE_TIMEOUT_VARIABLE, "90")
    assert idle_timeout_seconds(emulator.idle_timeout) == 90
    monkeypatch.setenv(IDLE_TIMEOUT_VARIABLE, "soon")
    with pytest.raises(ConfigurationError, match=f"{IDLE_TIMEOUT_VARIABLE}='soon' is not a number of seconds"):
        emulator.ensure_running()

    monkeypatch.delenv(IDLE_TIMEOUT_VARIABLE)
    running = emulator.ensure_running()  # ampflow.toml's second reaches the server process
    try:
        wait_until_gone(running.pid, 20, "the emulator with ampflow.toml's idle timeout to exit")
        assert "nothing used it for 1 s" in emulator.log_file.read_text()
    finally:
        emulator.stop()


def test_status_shows_what_runs_stop_stops_it_and_an_unused_emulator_takes_its_endpoints_along(app: App, tmp_path: Path) -> None:
    home = quiet_dagster_home(tmp_path / "dagster_home")
    assert ampflow(app.root, "dev", dagster_home=home).returncode == 0
    emulator = json.loads((app.project.state_dir / "emulator" / "server.json").read_text())
    endpoint = json.loads((app.project.state_dir / "graphql" / "development" / "server.json").read_text())
    assert process_alive(emulator["pid"]) and process_alive(endpoint["pid"])

    status = ampflow(app.root, "status", dagster_home=home)
    assert status.returncode == 0, status.stderr
    assert (f"embedded emulator: http://127.0.0.1:{emulator['port']} (port {emulator['port']}, pid {emulator['pid']})"
            in status.stdout)
    assert (f"GraphQL endpoint of development: http://127.0.0.1:{endpoint['port']}/graphql "
            f"(port {endpoint['port']}, pid {endpoint['pid']})" in status.stdout)

    stopped = ampflow(app.root, "stop", dagster_home=home)
    assert stopped.returncode == 0, stopped.stderr
    assert f"Stopped the embedded emulator (http://127.0.0.1:{emulator['port']}, pid {emulator['pid']})" in stopped.stdout
    assert f"Stopped the GraphQL endpoint of development (http://127.0.0.1:{endpoint['port']}/graphql" in stopped.stdout
    assert not process_alive(emulator["pid"]) and not process_alive(endpoint["pid"])

    after = ampflow(app.root, "status", dagster_home=home)
    assert after.returncode == 0, after.stderr
    assert "none running" in after.stdout
    assert "tables: not read, the embedded emulator is not running" in after.stdout
    assert app.emulator().listening() is None  # status started nothing
    assert "Nothing of this project was running." in ampflow(app.root, "stop", dagster_home=home).stdout

    # Up to date, `ampflow dev` starts no run, but its front end gets the endpoint back.
    again = ampflow(app.root, "dev", dagster_home=home)
    assert again.returncode == 0 and "no run started" in again.stdout, again.stdout + again.stderr
    assert "Local GraphQL endpoint started" in again.stdout
    back = json.loads((app.project.state_dir / "graphql" / "development" / "server.json").read_text())
    assert process_alive(back["pid"]) and back["pid"] != endpoint["pid"]
    assert "Stopped the GraphQL endpoint of development" in ampflow(app.root, "stop", dagster_home=home).stdout

    # Started again with a short idle timeout: unused, the emulator exits and stops the endpoint on its way out.
    served = ampflow(app.root, "outputs", "development", dagster_home=home, env={IDLE_TIMEOUT_VARIABLE: "8"})
    assert served.returncode == 0, served.stderr
    emulator = json.loads((app.project.state_dir / "emulator" / "server.json").read_text())
    endpoint = json.loads((app.project.state_dir / "graphql" / "development" / "server.json").read_text())
    assert process_alive(endpoint["pid"])
    wait_until_gone(emulator["pid"], 40, "the unused emulator to exit")
    wait_until_gone(endpoint["pid"], 5, "its GraphQL endpoint to stop with it")
    log = app.emulator().log_file.read_text()
    assert "stopped the GraphQL endpoint(s) of development" in log and "nothing used it for 8 s" in log
