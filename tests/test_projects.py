"""Which app ampflow works on, and what belongs to one environment: project discovery, synthesis variables,
project ids, jobs that keep to their environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ampflow_dagster.environments import load_config
from ampflow_dagster.errors import ConfigurationError
from ampflow_dagster.fingerprint import amplify_fingerprint, backend_fingerprint
from ampflow_dagster.project import Project, discover_project
from ampflow_dagster.targets.aws import AwsSettings
from ampflow_dagster.workflow.workspace import EnvironmentWorkspace

from cli import ampflow
from conftest import App, copy_app, failure_text


def test_a_folder_without_ampflow_toml_is_not_a_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = tmp_path / "their-app"
    (app / "amplify").mkdir(parents=True)
    (app / "package.json").write_text('{"name": "their-app"}')
    monkeypatch.delenv("AMPFLOW_PROJECT_ROOT", raising=False)
    with pytest.raises(ConfigurationError) as raised:
        discover_project(app / "amplify")
    assert "No ampflow.toml" in raised.value.message and "ampflow init" in raised.value.resolution

    status = ampflow(app, "status", dagster_home=tmp_path / "home")
    assert status.returncode == 2
    assert "No ampflow.toml" in status.stderr and "Run `ampflow init`" in status.stderr
    assert "Todo" not in status.stdout + status.stderr  # nothing of the sample app
    assert not (app / ".ampflow").exists() and not (app / "dagster_home").exists()

    # dagster dev's code location asks the same question and gets the same answer.
    (tmp_path / "home").mkdir()
    validate = subprocess.run(
        [str(Path(sys.executable).with_name("dagster")), "definitions", "validate", "-m", "ampflow_dagster.definitions"],
        cwd=app, capture_output=True, text=True, timeout=300,
        env={**{k: v for k, v in os.environ.items() if k != "AMPFLOW_PROJECT_ROOT"}, "DAGSTER_HOME": str(tmp_path / "home")},
    )
    assert validate.returncode != 0
    assert "No ampflow.toml" in validate.stdout + validate.stderr


def test_the_cli_prints_no_dagster_instance_noise_and_gives_the_instance_its_run_limit(app: App, tmp_path: Path) -> None:
    home = tmp_path / "fresh_home"
    status = ampflow(app.root, "status", dagster_home=home)
    assert status.returncode == 0, status.stderr
    output = status.stdout + status.stderr
    assert "No dagster instance configuration file" not in output and "Telemetry" not in output
    written = (home / "dagster.yaml").read_text()
    assert "applyLimitPerUniqueValue: true" in written and "enabled: false" in written
    instance_config = Path(__file__).resolve().parents[1] / "dagster_home" / "dagster.yaml"
    assert written == instance_config.read_text()  # one source: the sample's instance is the one ampflow writes


def test_amplify_dev_refuses_production_before_changing_anything(app: App, instance) -> None:
    job = app.definitions().resolve_job_def("amplify_dev")
    app.register(instance)
    result = job.execute_in_process(instance=instance, partition_key="production", raise_on_error=False)
    assert not result.success
    text = failure_text(result)
    assert "Job amplify_dev runs environment 'development' only, but partition 'production' was chosen" in text
    assert "amplify_prod" in text
    assert result.get_asset_materialization_events() == []
    assert not (app.project.state_dir / "emulator").exists()  # no endpoint was even started


def test_synthesis_variables_come_from_the_file_or_from_ampflow_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "app"
    copy_app(root)
    config = root / "ampflow.toml"
    base = config.read_text()
    config.write_text(base + '\n[environments.development.variables]\nAPI_DOMAIN = "dev.example.com"\n'
                      'QUEUE_URL = { from_env = "DEV_QUEUE_URL" }\n')
    project = Project(root)
    development = load_config(project).environment("development")
    monkeypatch.delenv("DEV_QUEUE_URL", raising=False)
    with pytest.raises(ConfigurationError) as missing:
        development.synthesis_variables()
    assert "QUEUE_URL (from $DEV_QUEUE_URL)" in missing.value.message and "Set DEV_QUEUE_URL" in missing.value.resolution

    monkeypatch.setenv("DEV_QUEUE_URL", "https://sqs.example/one")
    assert development.synthesis_variables() == {"API_DOMAIN": "dev.example.com", "QUEUE_URL": "https://sqs.example/one"}
    first = backend_fingerprint(project, development)
    assert first != amplify_fingerprint(project)
    production = load_config(project).environment("production")
    assert backend_fingerprint(project, production) == amplify_fingerprint(project)  # declares none
    monkeypatch.setenv("DEV_QUEUE_URL", "https://sqs.example/two")
    assert backend_fingerprint(project, development) != first  # another value is another backend

    config.write_text(base + '\n[environments.development.variables]\nSTRIPE_SECRET_KEY = "sk_live_123"\n')
    with pytest.raises(ConfigurationError) as secret:
        load_config(project)
    assert "STRIPE_SECRET_KEY looks like a secret" in secret.value.message
    assert 'from_env = "STRIPE_SECRET_KEY"' in secret.value.resolution


def test_two_apps_with_one_package_name_never_share_tables(tmp_path: Path) -> None:
    names = []
    for app_name, project_id in (("first", "app-one"), ("second", "app-two")):
        root = tmp_path / app_name
        copy_app(root)
        config = root / "ampflow.toml"
        config.write_text(f'project_id = "{project_id}"\n' + config.read_text())
        workspace = EnvironmentWorkspace.open(Project(root), "development", AwsSettings())
        names.append(workspace.target.table_name("Todo"))
    assert names[0] != names[1]
    assert all(name.startswith("Todo-") and name.endswith("-NONE") for name in names)
