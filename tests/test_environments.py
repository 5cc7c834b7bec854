"""ampflow.toml is the one place environments are declared; mistakes in it are named precisely."""

from __future__ import annotations

from pathlib import Path

import pytest

from ampflow_dagster.environments import load_config
from ampflow_dagster.errors import ConfigurationError
from ampflow_dagster.project import Project


def project_with(tmp_path: Path, text: str | None) -> Project:
    (tmp_path / "amplify").mkdir()
    if text is not None:
        (tmp_path / "ampflow.toml").write_text(text)
    return Project(tmp_path)


def test_defaults_are_development_and_production(tmp_path: Path) -> None:
    config = load_config(project_with(tmp_path, None))
    assert list(config.environments) == ["development", "production"]
    development, production = config.environments.values()
    assert (development.prefix, development.automated_deploys, development.protected) == ("[DEV]", True, False)
    assert (production.prefix, production.automated_deploys, production.protected) == ("[PROD]", False, True)
    assert development.label("Buy milk") == "[DEV] Buy milk"
    assert development.label("[DEV] Buy milk") == "[DEV] Buy milk"


def test_unknown_environment_lists_the_known_ones(tmp_path: Path) -> None:
    config = load_config(project_with(tmp_path, None))
    with pytest.raises(ConfigurationError, match=r"Unknown environment 'prod'\. ampflow knows: development, production"):
        config.environment("prod")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[environments.dev]\ntarget = "cloud"\n', r"\[environments\.dev\]: target 'cloud' is not a deploy target"),
        ('[environments.dev]\nprotected = "yes"\n', r"\[environments\.dev\]: protected must be true or false"),
        ('[environments.dev]\nprefixx = "[D]"\n', r"\[environments\.dev\]: unknown key\(s\) prefixx"),
        ('[environments.Dev_1]\n', r"'Dev_1' is not a usable environment name"),
        ('[environments.a]\nprefix = "[A]"\n[environments.b]\nprefix = "[A]"\n', r"prefixes that cannot be told apart"),
        ('[environments.a\n', r"is not valid TOML"),
        ('[deploy]\nx = 1\n', r"unknown section\(s\) deploy"),
        ('owners = ["platform team"]\n', r"owner\(s\) 'platform team' are neither an email address nor team:<name>"),
        ('owners = "team:platform"\n', r"owners must be a list of strings"),
        ('[environments.dev]\ntarget = "sandbox"\nsandbox_identifier = "my_sandbox!"\n', r"'my_sandbox!' is not a valid sandbox identifier"),
        ('[environments.dev]\ntarget = "sandbox"\nsandbox_identifier = "a-very-long-identifier"\n', r"not a valid sandbox identifier"),
        ('[environments.prod]\ntarget = "branch"\nbranch = "main"\n', r"target 'branch' needs app_id"),
        ('[reconciliation]\nenvironment = "staging"\n', r"environment 'staging' is not declared"),
        ('[reconciliation]\ncron = "daily"\n', r"is not a five-field cron expression"),
    ],
)
def test_invalid_configuration_is_named(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigurationError, match=expected) as raised:
        load_config(project_with(tmp_path, text))
    assert "ampflow.toml" in str(raised.value) and raised.value.resolution


def test_sandbox_identifier_defaults_to_the_environment_name(tmp_path: Path) -> None:
    config = load_config(project_with(tmp_path, '[environments.dev]\ntarget = "sandbox"\n'))
    assert config.environment("dev").sandbox_identifier == "dev"
