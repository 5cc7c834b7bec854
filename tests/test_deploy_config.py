"""deploy/dagster.yaml, the team instance, is a valid Dagster instance configuration for the pinned Dagster family."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from dagster._config import validate_config
from dagster._core.instance.config import dagster_instance_config

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
ENVIRONMENT = {
    "DAGSTER_POSTGRES_HOST": "db.internal", "DAGSTER_POSTGRES_PORT": "5432", "DAGSTER_POSTGRES_USER": "dagster",
    "DAGSTER_POSTGRES_PASSWORD": "secret", "DAGSTER_POSTGRES_DB": "dagster", "DAGSTER_COMPUTE_LOG_BUCKET": "team-logs",
}


@pytest.fixture
def deploy_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in ENVIRONMENT.items():
        monkeypatch.setenv(name, value)


def test_the_team_instance_configuration_is_valid(deploy_environment: None) -> None:
    config, _ = dagster_instance_config(str(DEPLOY))
    assert set(config["storage"]) == {"postgres"}
    for section in ("run_launcher", "compute_logs"):
        entry = config[section]
        configurable = getattr(importlib.import_module(entry["module"]), entry["class"])
        result = validate_config(configurable.config_type(), entry["config"])
        assert result.success, f"{section}: {[error.message for error in result.errors]}"
    from dagster_postgres import DagsterPostgresStorage

    storage = validate_config(DagsterPostgresStorage.config_type(), config["storage"]["postgres"])
    assert storage.success, [error.message for error in storage.errors]
    assert config["run_queue"]["tag_concurrency_limits"][0]["key"] == "dagster/partition"


def test_a_misspelled_setting_is_refused(tmp_path: Path, deploy_environment: None) -> None:
    (tmp_path / "dagster.yaml").write_text((DEPLOY / "dagster.yaml").read_text().replace("run_queue:", "run_queues:"))
    with pytest.raises(Exception, match="run_queues"):
        dagster_instance_config(str(tmp_path))
