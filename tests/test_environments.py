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


# --- [previews]: which branches get an environment of their own ---------------------------------------------


def previews_project(tmp_path: Path, previews: str) -> Project:
    project = project_with(tmp_path, "[previews]\n" + previews)
    (tmp_path / "seed_data" / "development").mkdir(parents=True)
    return project


def test_previews_are_read_with_their_defaults(tmp_path: Path) -> None:
    config = load_config(previews_project(tmp_path, 'branches = ["feature/*", "fix/*"]\n'))
    previews = config.previews
    assert previews is not None and previews.branches == ("feature/*", "fix/*")
    assert (previews.remote, previews.target, previews.seed_from, previews.keep_after_delete_seconds) == (False, "local", "development", 86400)
    assert previews.matches("feature/new-model") and previews.matches("feature/a/b") and not previews.matches("main")
    assert previews.prefix_for("feature/new-model") == "[feature/new-model]"
    (tmp_path / "none").mkdir()
    assert load_config(project_with(tmp_path / "none", None)).previews is None


def test_previews_take_a_target_a_prefix_and_a_duration(tmp_path: Path) -> None:
    previews = load_config(previews_project(tmp_path, (
        'branches = ["feature/*"]\nremote = true\ntarget = "sandbox"\nprefix = "[PR {branch}]"\nkeep_after_delete = "12h"\n'
    ))).previews
    assert previews is not None
    assert (previews.remote, previews.target, previews.prefix_for("feature/x"), previews.keep_after_delete_seconds) == (
        True, "sandbox", "[PR feature/x]", 12 * 3600)


@pytest.mark.parametrize(
    ("previews", "expected"),
    [
        ('branches = ["feature/*"]\nbranch_glob = "x"\n', r"ampflow\.toml line 3: \[previews\] has unknown key\(s\) branch_glob"),
        ("branches = []\n", r"ampflow\.toml line 2: \[previews\] branches must be a non-empty list"),
        ('branches = ["feature/ *"]\n', r"ampflow\.toml line 2: branch glob 'feature/ \*' holds something no git branch name can"),
        ('branches = ["fix/[ab"]\n', r"line 2: branch glob 'fix/\[ab' has an unclosed"),
        ('branches = ["feature/"]\n', r"line 2: branch glob 'feature/' starts or ends as no git branch name can"),
        ('branches = ["f/*"]\ntarget = "branch"\n', r"line 3: previews cannot deploy to target 'branch'"),
        ('branches = ["f/*"]\nseed_from = "staging"\n', r"line 3: seed_from 'staging' is not an environment of ampflow\.toml"),
        ('branches = ["f/*"]\nseed_from = "production"\n', r"line 3: seed_from 'production' has no folder seed_data/production/"),
        ('branches = ["f/*"]\nprefix = "[{ticket}]"\n', r"line 3: prefix '\[\{ticket\}\]' names \{ticket\}; only \{branch\} is known"),
        ('branches = ["f/*"]\nkeep_after_delete = "a day"\n', r"line 3: keep_after_delete 'a day' is not a duration"),
        ('branches = ["f/*"]\nremote = "yes"\n', r"line 3: remote must be true or false"),
    ],
)
def test_a_mistake_in_previews_names_the_file_line_and_what_to_do(tmp_path: Path, previews: str, expected: str) -> None:
    with pytest.raises(ConfigurationError, match=expected) as raised:
        load_config(previews_project(tmp_path, previews))
    assert raised.value.resolution  # what to do
