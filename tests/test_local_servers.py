"""The servers ampflow leaves running on loopback have an owner: an emulator nothing uses, or whose project
is gone, exits by itself. Real moto servers."""

from __future__ import annotations

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
